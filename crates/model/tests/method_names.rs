//! Integration-method names as the README and the guide write them (regression: serde's snake
//! case made `Neuroflame2024` `neuroflame2024`, so the documented `neuroflame_2024` was refused).

use neuroxide_model::{Method, ModelFile};

fn method_of(name: &str) -> Result<Method, String> {
    let yaml = format!(
        "dt: 1 ms\nduration: 10 ms\nmethod: {name}\npopulations:\n  E: {{size: 2, tau: 10 ms}}\n"
    );
    ModelFile::from_yaml(&yaml, None, &[])
        .map(|m| m.spec.method)
        .map_err(|e| format!("{e:?}"))
}

#[test]
fn documented_method_names_load() {
    assert_eq!(method_of("euler"), Ok(Method::Euler));
    assert_eq!(method_of("exponential_euler"), Ok(Method::ExponentialEuler));
    assert_eq!(method_of("neuroflame_2024"), Ok(Method::Neuroflame2024));
}

#[test]
fn the_resolved_spec_writes_the_documented_name() {
    let model = ModelFile::from_yaml(
        "dt: 1 ms\nduration: 10 ms\nmethod: neuroflame_2024\npopulations:\n  E: {size: 2}\n",
        None,
        &[],
    )
    .unwrap();
    let json = serde_json::to_string(&model.spec).unwrap();
    assert!(json.contains("\"method\":\"neuroflame_2024\""), "{json}");
}

//! `neuroxide bench`: the benchmark suite (written next).

#[derive(clap::Args)]
pub struct BenchArgs {}

pub fn bench(_args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the benchmark suite is not built yet")
}

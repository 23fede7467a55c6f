# Run the translated decision-making network and see which population wins.
import neuroxide

results = neuroxide.load("docs/snippets/cnsproject_decision.yaml").run()
e1 = results["E1.mean_rate_mean"][0]
e2 = results["E2.mean_rate_mean"][0]
print(f"E1 {e1:.1f} Hz, E2 {e2:.1f} Hz: {'E1' if e1 > e2 else 'E2'} wins")
print("E1 population rate in 10 ms windows:", results["E1.rate_mean"][0].round(0))

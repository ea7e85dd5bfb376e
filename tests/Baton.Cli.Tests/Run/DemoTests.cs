using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>The README's first command.</summary>
public sealed class DemoTests
{
    [Fact(Timeout = 240_000)]
    public async Task The_demo_survives_its_preemptions_and_ends_bit_identical()
    {
        var result = await BatonCli.RunAsync(["demo"], timeout: TimeSpan.FromSeconds(200));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(3, Regex.Matches(result.StdOut, @"x preempted at step \d+: SIGKILL to the (trainer|supervisor)").Count);
        Assert.Contains("are bit-identical to the uninterrupted run", result.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"work lost per preemption: machine 1: \d+ steps, machine 2: \d+ steps, machine 3: \d+ steps", result.StdOut);
        Assert.Matches(@"(?m)^4 +\S+ .* finished", result.StdOut);
        Assert.Contains("try next:", result.StdOut, StringComparison.Ordinal);
    }
}

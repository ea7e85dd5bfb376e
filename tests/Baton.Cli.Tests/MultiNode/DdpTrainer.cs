using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.MultiNode;

/// <summary>examples/multinode/ddp_train.py, the two-node data-parallel trainer of the multi-node tests.</summary>
internal static partial class DdpTrainer
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(240);

    public static string Script => Path.Combine(RepositoryRoot.Path, "examples", "multinode", "ddp_train.py");

    /// <summary>"rank R: starting from step S (newest here: L)": the step the ranks agreed on, and the newest this rank had.</summary>
    [GeneratedRegex(@"^rank (?<rank>\d): starting from step (?<from>\d+) \(newest here: (?<here>\d+)\)", RegexOptions.Multiline)]
    public static partial Regex StartLine();

    /// <summary>The same training on two nodes without Baton and without losses: the weights every run must end with.</summary>
    public static async Task<byte[]> UninterruptedAsync(string folder, int steps)
    {
        var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var output = Path.Combine(folder, "final.bin");
        Directory.CreateDirectory(folder);
        var nodes = Enumerable.Range(0, 2).Select(rank =>
        {
            var info = new ProcessStartInfo("torchrun") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            info.Environment["TMPDIR"] = folder; // torchelastic's own temporary folders go with the test's
            foreach (var argument in (string[])["--redirects", "1:0", "--tee", "1:0", "--nnodes", "2", "--node_rank", $"{rank}", "--nproc_per_node", "1",
                "--master_addr", "127.0.0.1", "--master_port", port, Script, "--dir", Path.Combine(folder, $"node-{rank}"),
                "--steps", $"{steps}", "--every", "5", "--out", output])
            {
                info.ArgumentList.Add(argument);
            }

            return new NodeProcess(Process.Start(info)!, rank);
        }).ToList();
        try
        {
            foreach (var node in nodes)
            {
                Assert.True(await node.WaitForExitAsync(Limit) == 0, node.Output);
            }
        }
        finally
        {
            nodes.ForEach(n => n.Dispose());
        }

        return File.ReadAllBytes(output);
    }
}

using Baton.Chunking;
using Baton.Testing;

namespace Baton.Tests.Format;

/// <summary>The chunker as FORMAT.md describes it (implemented in tools/baton-read.py) cuts where baton cuts.</summary>
public sealed class ChunkerSpecTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 300_000)]
    [InlineData(1024, 4096, 16384, 42UL, false)]
    [InlineData(256, 2048, 8192, 7089062773011063907UL, true)]
    [InlineData(4096, 8192, 65536, ulong.MaxValue, false)]
    public async Task The_chunker_of_the_spec_cuts_where_baton_cuts(int min, int average, int max, ulong seed, bool lowEntropy)
    {
        var data = new byte[300_000];
        new Random(min).NextBytes(data);
        if (lowEntropy)
        {
            for (var i = 0; i < data.Length; i++)
            {
                data[i] &= 3;
            }
        }

        var file = _temp.Combine("input.bin");
        File.WriteAllBytes(file, data);
        var chunker = new Chunker(new ChunkerParameters(min, average, max, seed));
        var expected = new List<int>();
        for (var start = 0; start < data.Length; start += expected[^1])
        {
            expected.Add(chunker.NextCut(data.AsSpan(start)));
        }

        var cuts = await PythonReader.RunAsync("cuts", file, $"{min}", $"{average}", $"{max}", $"{seed}");
        Assert.True(cuts.ExitCode == 0, cuts.ToString());
        Assert.Equal(expected, cuts.StdOut.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList());
        Assert.True(expected.Count > 10, $"only {expected.Count} chunks: the input does not exercise the cut rule");
    }

    public void Dispose() => _temp.Dispose();
}

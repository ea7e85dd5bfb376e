using System.Security.Cryptography;
using Baton.Chunking;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests.Chunking;

public sealed class ChunkerProperties
{
    // Small sizes so that a few hundred KiB hold dozens of chunks, in the default's proportions (min = average / 4,
    // max = average * 4) or wider; the properties are the same at any scale.
    private static readonly Gen<ChunkerParameters> Parameters =
        from averageExponent in Gen.Choose(9, 13)
        from minDivisor in Gen.Elements(4, 8)
        from maxFactor in Gen.Elements(4, 8)
        from seed in ArbMap.Default.GeneratorFor<ulong>()
        select new ChunkerParameters((1 << averageExponent) / minDivisor, 1 << averageExponent, (1 << averageExponent) * maxFactor, seed);

    private static readonly Gen<byte[]> RandomBytes =
        from length in Gen.Choose(0, 200_000)
        from seed in ArbMap.Default.GeneratorFor<int>()
        select Bytes(length, seed);

    [Property(MaxTest = 200)]
    public Property Chunks_concatenate_to_the_input() => Prop.ForAll(Arb.From(Parameters), Arb.From(RandomBytes), (parameters, data) =>
    {
        var chunker = new Chunker(parameters);
        var joined = Cut(chunker, data).SelectMany(c => data.AsSpan(c.Offset, c.Length).ToArray()).ToArray();
        Assert.Equal(data, joined);
    });

    [Property(MaxTest = 200)]
    public Property Every_chunk_but_the_last_is_within_the_minimum_and_maximum() => Prop.ForAll(Arb.From(Parameters), Arb.From(RandomBytes), (parameters, data) =>
    {
        var chunks = Cut(new Chunker(parameters), data);
        Assert.All(chunks.SkipLast(1), c => Assert.InRange(c.Length, parameters.MinSize, parameters.MaxSize));
        if (chunks.Count > 0)
        {
            Assert.InRange(chunks[^1].Length, 1, parameters.MaxSize);
        }
    });

    [Property(MaxTest = 200)]
    public Property A_cut_never_depends_on_bytes_beyond_the_maximum_size() => Prop.ForAll(Arb.From(Parameters), Arb.From(RandomBytes), (parameters, data) =>
    {
        // The archiver hands the chunker a window of at least MaxSize bytes, never the whole file.
        var chunker = new Chunker(parameters);
        for (var offset = 0; offset < data.Length;)
        {
            var whole = chunker.NextCut(data.AsSpan(offset));
            var window = chunker.NextCut(data.AsSpan(offset, Math.Min(parameters.MaxSize, data.Length - offset)));
            Assert.Equal(whole, window);
            offset += whole;
        }
    });

    [Property(MaxTest = 100)]
    public Property Cutting_is_deterministic_across_chunker_instances() => Prop.ForAll(Arb.From(Parameters), Arb.From(RandomBytes), (parameters, data) =>
    {
        Assert.Equal(Cut(new Chunker(parameters), data), Cut(new Chunker(parameters with { }), data));
    });

    [Property(MaxTest = 200)]
    public Property Inserting_bytes_near_the_start_changes_only_the_chunks_near_the_insertion()
    {
        var cases =
            from parameters in Parameters
            from seed in ArbMap.Default.GeneratorFor<int>()
            from position in Gen.Choose(0, 2048)
            from inserted in Gen.Choose(1, 100)
            select (parameters, seed, position, inserted);
        return Prop.ForAll(Arb.From(cases), c =>
        {
            var (parameters, seed, position, inserted) = c;
            var original = Bytes(64 * parameters.MaxSize, seed);
            var edited = original[..position].Concat(Bytes(inserted, ~seed)).Concat(original[position..]).ToArray();
            var chunker = new Chunker(parameters);
            var cuts = Cut(chunker, original);
            var before = Ids(original, cuts);
            var after = Ids(edited, Cut(chunker, edited)).ToHashSet();

            // Every chunk that starts well past the insertion comes back with the same id. Cut points resynchronise
            // within about 3.5 maximum sizes in the worst of thousands of trials; 8 leaves a wide margin.
            var horizon = position + (8 * parameters.MaxSize);
            for (var i = 0; i < before.Count; i++)
            {
                if (cuts[i].Offset >= horizon)
                {
                    Assert.True(after.Contains(before[i]), $"chunk {i} at offset {cuts[i].Offset} changed although the insertion was at {position}");
                }
            }

            Assert.Contains(cuts, c => c.Offset >= horizon);
        });
    }

    [Fact(Timeout = 60_000)]
    public async Task The_default_sizes_cut_checkpoint_sized_data_into_megabyte_chunks()
    {
        await Task.Yield();
        var parameters = ChunkerParameters.Default;
        var data = Bytes(48 * 1024 * 1024, 7);
        var chunks = Cut(new Chunker(parameters), data);
        Assert.All(chunks.SkipLast(1), c => Assert.InRange(c.Length, parameters.MinSize, parameters.MaxSize));
        var average = data.Length / chunks.Count;
        Assert.InRange(average, parameters.MinSize, parameters.MaxSize);
    }

    [Fact]
    public void Invalid_sizes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new Chunker(new ChunkerParameters(1024, 1000, 8192, 1)));
        Assert.Throws<ArgumentException>(() => new Chunker(new ChunkerParameters(4096, 4096, 8192, 1)));
        Assert.Throws<ArgumentException>(() => new Chunker(new ChunkerParameters(16, 1024, 8192, 1)));
        Assert.Throws<ArgumentException>(() => new Chunker(new ChunkerParameters(1024, 4096, 4096, 1)));
    }

    internal static List<(int Offset, int Length)> Cut(Chunker chunker, byte[] data)
    {
        var result = new List<(int, int)>();
        for (var offset = 0; offset < data.Length;)
        {
            var length = chunker.NextCut(data.AsSpan(offset, Math.Min(chunker.Parameters.MaxSize, data.Length - offset)));
            result.Add((offset, length));
            offset += length;
        }

        return result;
    }

    private static List<string> Ids(byte[] data, List<(int Offset, int Length)> chunks) =>
        chunks.Select(c => Convert.ToHexString(SHA256.HashData(data.AsSpan(c.Offset, c.Length)))).ToList();

    internal static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

using System.Text.Json;
using Baton.Testing;

namespace Baton.Tests.Stage;

public sealed class StageCommandTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private readonly HttpTestServer _server = new();

    [Fact(Timeout = 120_000)]
    public async Task Stage_downloads_once_and_a_second_stage_copies_nothing_over_the_network()
    {
        var data = Bytes(800_000, 1);
        _server.Serve("/eye.npz", data).ContentMd5 = true;
        var dest = _temp.Combine("data", "eye.npz");

        var first = await Baton("stage", _server.Url("/eye.npz"), dest);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(dest, first.StdOut.Trim());
        Assert.Contains("downloaded", first.StdErr, StringComparison.Ordinal);
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));

        _server.ClearRequests();
        var second = await Baton("stage", _server.Url("/eye.npz"), dest);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("nothing downloaded", second.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Requests, r => r.Method == "GET");
    }

    [Fact(Timeout = 120_000)]
    public async Task Json_output_reports_what_was_downloaded()
    {
        _server.Serve("/a.bin", Bytes(1000, 2));
        var result = await Baton("stage", _server.Url("/a.bin"), _temp.Path + "/", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = JsonLines.Result(result.StdOut);
        Assert.Equal("stage", json.GetProperty("verb").GetString());
        Assert.Equal(_temp.Combine("a.bin"), json.GetProperty("destination").GetString());
        Assert.Equal(1000, json.GetProperty("bytesDownloaded").GetInt64());
        Assert.Equal(1, json.GetProperty("files").GetInt64());
    }

    [Fact(Timeout = 120_000)]
    public async Task A_corrupt_download_exits_4_and_leaves_no_destination()
    {
        _server.Serve("/c.bin", Bytes(300_000, 3)).GoogHash = true;
        _server.CorruptBodies(1);
        var dest = _temp.Combine("c.bin");
        var result = await Baton("stage", _server.Url("/c.bin"), dest);
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("corrupt", result.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(dest));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_missing_source_exits_2_and_a_refused_one_exits_3()
    {
        var missing = await Baton("stage", _server.Url("/nothing.bin"), _temp.Combine("x"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("404", missing.StdErr, StringComparison.Ordinal);

        _server.Serve("/private.bin", Bytes(10, 4));
        _server.Fail(2, 403);
        var refused = await Baton("stage", _server.Url("/private.bin?X-Goog-Signature=SECRETSIG"), _temp.Combine("y"));
        Assert.Equal(3, refused.ExitCode);
        Assert.DoesNotContain("SECRETSIG", refused.StdErr, StringComparison.Ordinal);
        Assert.Single(refused.ErrorLines);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_public_gs_object_stages_through_the_gcs_endpoint()
    {
        var data = Bytes(200_000, 5);
        _server.Serve("/quickdraw_dataset/sketchrnn/eye.npz", data).GoogHash = true;
        var result = await Baton(["stage", "gs://quickdraw_dataset/sketchrnn/eye.npz", "."], new() { ["BATON_GCS_ENDPOINT"] = _server.BaseUrl });
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(data, await File.ReadAllBytesAsync(_temp.Combine("eye.npz")));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_folder_stages_into_a_folder()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "x", "1.bin"), 20_000, 6);
        TestData.WriteRandomFile(Path.Combine(source, "2.bin"), 30_000, 7);
        var result = await Baton("stage", source, _temp.Combine("dst"));
        Assert.True(result.ExitCode == 0, result.ToString());
        TestData.AssertSameTree(source, _temp.Combine("dst"));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_stage_killed_mid_download_resumes_with_a_range_request()
    {
        var data = Bytes(6_000_000, 8);
        _server.Serve("/slow.bin", data);
        _server.ChunkDelay = TimeSpan.FromMilliseconds(30);
        var dest = _temp.Combine("slow.bin");
        var cache = _temp.Combine("cache");
        using (var process = BatonCli.Start(["stage", _server.Url("/slow.bin"), dest, "--quiet"], _temp.Path, new Dictionary<string, string?> { ["BATON_STAGE_CACHE"] = cache }))
        {
            // Wait until the saved progress shows bytes on disk, then kill without warning.
            for (var i = 0; i < 300 && !SavedProgress(cache); i++)
            {
                await Task.Delay(100);
            }

            Assert.True(SavedProgress(cache), "no download progress was saved");
            Signals.Send(process.Id, Signals.SigKill);
            await process.WaitForExitAsync();
        }

        Assert.False(File.Exists(dest));
        _server.ChunkDelay = TimeSpan.Zero;
        _server.ClearRequests();
        var resumed = await Baton("stage", _server.Url("/slow.bin"), dest);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
        var get = Assert.Single(_server.Requests, r => r.Method == "GET");
        Assert.Matches("^bytes=[1-9][0-9]*-", get.Range);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _temp.Dispose();
    }

    private Task<CliResult> Baton(params string[] args) => Baton(args, []);

    private Task<CliResult> Baton(string[] args, Dictionary<string, string?> environment)
    {
        environment["BATON_STAGE_CACHE"] = _temp.Combine("cache");
        return BatonCli.RunAsync(args, _temp.Path, environment);
    }

    private static bool SavedProgress(string cache)
    {
        var partial = Path.Combine(cache, "partial");
        return Directory.Exists(partial) && Directory.EnumerateFiles(partial, "*.json").Any(f =>
        {
            try
            {
                using var state = JsonDocument.Parse(File.ReadAllBytes(f));
                return state.RootElement.GetProperty("parts").EnumerateArray().Sum(p => p.GetProperty("done").GetInt64()) > 0;
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                return false;
            }
        });
    }

    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

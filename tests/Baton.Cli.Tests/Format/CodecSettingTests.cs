using Amazon.Runtime;
using Baton.Compression;
using Baton.Repositories;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Storage.S3;
using Baton.Testing;
using Baton.Tests.Run;

namespace Baton.Tests.Format;

/// <summary>
/// <c>--compression auto|fast|small</c> (and <c>BATON_COMPRESSION</c>, <c>compression</c> in baton.toml) through the
/// real command line: the codec of the float chunks in the store's index, restores of each, and bad values.
/// </summary>
public sealed class CodecSettingTests : IAsyncLifetime
{
    private static readonly BlobCodec[] Planes = [BlobCodec.Float32Planes, BlobCodec.Float16Planes];
    private static readonly BlobCodec[] Segments = [BlobCodec.FloatSegments];
    private readonly TempDirectory _temp = new();
    private S3rver? _s3rver;

    [Theory(Timeout = 180_000)]
    [InlineData(new string[0], false)]
    [InlineData(new[] { "--compression", "auto" }, false)]
    [InlineData(new[] { "--compression", "fast" }, false)]
    [InlineData(new[] { "--compression", "small" }, true)]
    [InlineData(new[] { "--compression", "Small" }, true)]
    public async Task A_push_to_a_folder_store_writes_the_codec_of_its_setting_and_pulls_back(string[] flags, bool segments)
    {
        var source = Checkpoint("src", 1);
        var store = _temp.Combine("store");

        await Cli.PushAsync(source, store, "r", flags);

        Assert.Equal(segments ? Segments : Planes, await FloatCodecsAsync(new FolderStore(store)));
        await AssertPullsAsync(store, source);
    }

    [Fact(Timeout = 180_000)]
    public async Task The_environment_and_baton_toml_set_it_and_the_flag_wins()
    {
        var work = _temp.Combine("work");
        var source = Checkpoint(Path.Combine("work", "ckpt"), 2);
        File.WriteAllText(Path.Combine(work, "baton.toml"), "compression = \"small\"\n");

        var fromFile = await BatonCli.RunAsync(["push", source, "--store", "file", "--run", "r"], work);
        var fromEnvironment = await BatonCli.RunAsync(["push", source, "--store", "env", "--run", "r"], work,
            new Dictionary<string, string?> { ["BATON_COMPRESSION"] = "fast" });
        var fromFlag = await BatonCli.RunAsync(["push", source, "--store", "flag", "--run", "r", "--compression", "fast"], work);

        Assert.True(fromFile.ExitCode == 0 && fromEnvironment.ExitCode == 0 && fromFlag.ExitCode == 0, $"{fromFile}\n{fromEnvironment}\n{fromFlag}");
        Assert.Equal(Segments, await FloatCodecsAsync(new FolderStore(Path.Combine(work, "file"))));
        Assert.Equal(Planes, await FloatCodecsAsync(new FolderStore(Path.Combine(work, "env"))));
        Assert.Equal(Planes, await FloatCodecsAsync(new FolderStore(Path.Combine(work, "flag"))));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_push_to_an_s3_store_under_auto_writes_codec_4_and_fast_writes_codecs_2_and_3()
    {
        var environment = Server.CliEnvironment();
        var source = Checkpoint("src", 3);
        foreach (var (prefix, flags) in new[] { ("auto", Array.Empty<string>()), ("fast", ["--compression", "fast"]) })
        {
            var push = await BatonCli.RunAsync(["push", source, "--store", $"s3://codecs/{prefix}", "--run", "r", "--quiet", .. flags], _temp.Path, environment);
            Assert.True(push.ExitCode == 0, push.ToString());
            var pull = await BatonCli.RunAsync(["pull", _temp.Combine("pulled-" + prefix), "--store", $"s3://codecs/{prefix}", "--run", "r", "--quiet"], _temp.Path, environment);
            Assert.True(pull.ExitCode == 0, pull.ToString());
            TreeAssert.Same(source, _temp.Combine("pulled-" + prefix));
        }

        Assert.Equal(Segments, await FloatCodecsAsync(S3("codecs", "auto")));
        Assert.Equal(Planes, await FloatCodecsAsync(S3("codecs", "fast")));
    }

    [Fact(Timeout = 180_000)]
    public async Task Baton_run_pushes_with_the_codec_of_its_setting()
    {
        var floats = Checkpoint("floats", 4);
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        var copy = $"mkdir -p '{dir}' && cp '{Path.Combine(floats, "model.f32")}' '{Path.Combine(dir, "ckpt-1.bin")}'";

        var run = await BatonCli.RunAsync(RunFixtures.Run(store, dir, ["--format", "pattern:ckpt-{step}.bin", "--compression", "small"], ["sh", "-c", copy]), _temp.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(Segments, await FloatCodecsAsync(new FolderStore(store)));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("push", "--compression", "tiny", null)]
    [InlineData("run", "--compression", "zstd", null)]
    [InlineData("push", "BATON_COMPRESSION", "smallest", null)]
    [InlineData("push", "compression in baton.toml", "best", "compression = \"best\"\n")]
    public async Task A_bad_value_is_a_usage_error_naming_it_and_writes_nothing(string command, string source, string value, string? toml)
    {
        var work = _temp.Combine("bad");
        var checkpoint = Checkpoint(Path.Combine("bad", "ckpt"), 5);
        if (toml is not null)
        {
            File.WriteAllText(Path.Combine(work, "baton.toml"), toml);
        }

        string[] flag = source == "--compression" ? ["--compression", value] : [];
        string[] args = command == "push"
            ? ["push", checkpoint, "--store", "store", "--run", "r", .. flag]
            : ["run", "--store", "store", "--run", "r", "--dir", checkpoint, .. flag, "--", "true"];
        var result = await BatonCli.RunAsync(args, work,
            source == "BATON_COMPRESSION" ? new Dictionary<string, string?> { ["BATON_COMPRESSION"] = value } : null);

        Cli.AssertOneLineError(result, 2, source, $"'{value}'", "auto, fast, small");
        Assert.False(Directory.Exists(Path.Combine(work, "store")), result.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Config_shows_the_setting_and_where_it_comes_from()
    {
        var work = _temp.Combine("config");
        Directory.CreateDirectory(work);

        var byDefault = await BatonCli.RunAsync(["config"], work);
        File.WriteAllText(Path.Combine(work, "baton.toml"), "compression = \"small\"\n");
        var fromFile = await BatonCli.RunAsync(["config"], work);
        var fromEnvironment = await BatonCli.RunAsync(["config"], work, new Dictionary<string, string?> { ["BATON_COMPRESSION"] = "fast" });

        Assert.Matches(@"compression\s+auto\s+default", byDefault.StdOut);
        Assert.Matches(@"compression\s+small\s+baton\.toml", fromFile.StdOut);
        Assert.Matches(@"compression\s+fast\s+BATON_COMPRESSION", fromEnvironment.StdOut);
    }

    public async Task InitializeAsync() => _s3rver = await S3rver.StartAsync();

    public async Task DisposeAsync()
    {
        if (_s3rver is not null)
        {
            await _s3rver.DisposeAsync();
        }

        _temp.Dispose();
    }

    private S3rver Server => _s3rver ?? throw new InvalidOperationException("s3rver is not running");

    // float32 and bfloat16 tensors and a text file.
    private string Checkpoint(string name, int seed)
    {
        var dir = _temp.Combine(name);
        FloatFiles.Write(Path.Combine(dir, "model.f32"), FloatFiles.Float32(seed, 150_000));
        FloatFiles.Write(Path.Combine(dir, "embedding.bf16"), FloatFiles.Bfloat16(seed + 100, 200_000));
        File.WriteAllText(Path.Combine(dir, "config.json"), string.Concat(Enumerable.Repeat("{\"layers\": 12, \"width\": 768}\n", 40)));
        return dir;
    }

    private async Task AssertPullsAsync(string store, string source)
    {
        var target = _temp.Combine("pulled");
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--quiet");
        TreeAssert.Same(source, target);
    }

    // The codecs of the float chunks in the store's index (zstd and raw chunks left out), in codec order.
    private static async Task<BlobCodec[]> FloatCodecsAsync(IObjectStore objects)
    {
        await using (objects)
        {
            var repository = await Repository.OpenAsync(objects);
            return [.. (await repository.LoadIndexAsync()).Blobs.Select(b => b.Value.Entry.Codec)
                .Where(c => c is not (BlobCodec.None or BlobCodec.Zstd)).Distinct().Order()];
        }
    }

    private S3Store S3(string bucket, string prefix) => new(new S3StoreOptions
    {
        Bucket = bucket,
        Prefix = prefix,
        Endpoint = Server.Endpoint,
        Region = "us-east-1",
        Credentials = new BasicAWSCredentials(S3rver.AccessKey, S3rver.SecretKey),
        AtomicCreate = false,
    });
}

using System.Globalization;
using Baton.Bench;
using Baton.Bench.Generation;
using Baton.Bench.Measuring;
using Baton.Bench.Reporting;

var root = FindRepositoryRoot();
if (args is ["group", .. var groupArgs])
{
    return GroupBench.RunAsync(groupArgs, root, Console.Out).GetAwaiter().GetResult();
}

if (args is ["remote", .. var remoteArgs])
{
    return RemoteBench.RunAsync(remoteArgs, root, Console.Out).GetAwaiter().GetResult();
}

if (args is ["profile", var profiled])
{
    StageProfile.Run(profiled, Console.Out);
    return 0;
}

if (args is ["codecs", .. var inputs])
{
    return CodecRatios.Run(inputs, Console.Out);
}

if (args is ["pushes", .. var series])
{
    return DeltaPushes.RunAsync(series, Console.Out).GetAwaiter().GetResult();
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args, root);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"baton-bench: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var log = Console.Out;
var data = CheckpointGenerator.Generate(Path.Combine(options.WorkDirectory, "data"), options.Size, options.Seed, log);
var checkpoints = new Dictionary<string, string[]> { ["f32"] = data.Float32, ["bf16"] = data.Bfloat16 };
var inputBytes = checkpoints.ToDictionary(c => c.Key, c => DirectoryBytes(c.Value[0]));
var titles = checkpoints.ToDictionary(c => c.Key, c =>
    $"{(c.Key == "f32" ? "float32 weights + Adam state" : "bf16 weights")}: {inputBytes[c.Key] / 1073741824.0:F2} GiB in {Directory.GetFiles(c.Value[0]).Length} files");

var suite = new Suite(options, log);
foreach (var kind in options.Kinds)
{
    suite.Run(kind, checkpoints[kind]);
}

var rows = Report.Rows(suite.Samples, inputBytes);
var checks = Report.Targets(rows);
var machine = Machine.Describe();
Console.WriteLine();
Console.WriteLine($"machine: {machine.Cpu}, {machine.Cores} cores, {machine.MemoryGiB:F0} GiB; {machine.Runtime}; {options.Runs} runs, medians");
Console.WriteLine(Report.Table(rows, checks, titles));

var stamp = TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
var document = new
{
    Created = TimeProvider.System.GetUtcNow(),
    Machine = machine,
    Options = new { options.Size, options.Runs, options.Seed, options.Tools, options.Kinds },
    Inputs = titles,
    Rows = rows,
    Targets = checks,
};
var path = Path.Combine(options.OutputDirectory, $"bench-{stamp}.json");
Report.WriteJson(path, document);
Report.WriteJson(Path.Combine(options.OutputDirectory, "latest.json"), document);
Console.WriteLine($"results: {path}");
return 0;

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Baton.slnx")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("run baton-bench from inside the Baton repository");
}

static long DirectoryBytes(string path) => new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

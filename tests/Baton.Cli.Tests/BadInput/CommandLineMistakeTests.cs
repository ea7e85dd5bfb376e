using Baton.Testing;

namespace Baton.Tests.BadInput;

/// <summary>Slips at the command line get a message that says what to type instead.</summary>
public sealed class CommandLineMistakeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task A_misspelt_option_before_the_separator_is_named_with_the_closest_one_not_taken_for_the_trainer()
    {
        var store = _temp.Combine("store");
        var result = await Cli.RunAsync("run", "--stor", store, "--dir", _temp.Combine("ckpt"), "--run", "r", "--", "true");

        Cli.AssertOneLineError(result, 2, "unknown option --stor", "did you mean --store?");
        Assert.False(Directory.Exists(store));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_misspelt_option_of_any_command_is_named_with_the_closest_one()
    {
        Cli.AssertOneLineError(await Cli.RunAsync("push", _temp.Path, "--stroe", _temp.Combine("store"), "--run", "r"), 2, "unknown option --stroe", "--store");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("pul", "'pull'")]
    [InlineData("staus", "'status'")]
    public async Task An_unknown_command_is_named_with_the_closest_one(string verb, string suggestion)
    {
        Cli.AssertOneLineError(await Cli.RunAsync(verb, "--store", _temp.Combine("store")), 2, $"unknown command '{verb}'", suggestion);
    }

    [Fact(Timeout = 60_000)]
    public async Task Trainer_flags_that_collide_with_batons_own_ask_for_the_separator()
    {
        var ckpt = _temp.Combine("ckpt");
        var result = await Cli.RunAsync("run", "--store", _temp.Combine("store"), "--dir", ckpt, "--run", "r", "python3", "train.py", "--dir", _temp.Combine("other"));

        Cli.AssertOneLineError(result, 2, "'--dir'", "'python3'", "after '--'");
        Assert.False(Directory.Exists(ckpt));
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_usage_shows_the_separator_before_the_trainer_command()
    {
        var help = await Cli.SucceedAsync("run", "--help");
        Assert.Contains("baton run [options] -- COMMAND [ARGS...]", help.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Help_lists_every_registered_store_and_checkpoint_format()
    {
        var push = await Cli.SucceedAsync("push", "--help");
        foreach (var form in new[] { "file:///", "s3://", "gs://", "az://", "sftp://", "rclone:" })
        {
            Assert.Contains(form, push.StdOut, StringComparison.Ordinal);
        }

        var run = await Cli.SucceedAsync("run", "--help");
        foreach (var format in new[] { "auto", "tf", "torch", "hf", "orbax", "keras", "pattern:" })
        {
            Assert.Contains(format, run.StdOut, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _temp.Dispose();
}

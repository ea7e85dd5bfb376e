using Baton.Cli.Rendering;

namespace Baton.Tests.Progress;

public sealed class ProgressModeTests
{
    [Theory]
    [InlineData(false, false, true, null, null, null, "Live")]
    [InlineData(false, false, false, null, null, null, "Lines")]
    [InlineData(false, false, true, "dumb", null, null, "Lines")]
    [InlineData(false, false, true, "xterm-color", "4242", null, "Lines")]
    [InlineData(false, false, false, null, null, "live", "Live")]
    [InlineData(false, false, true, null, null, "lines", "Lines")]
    [InlineData(false, false, true, null, null, "none", "None")]
    [InlineData(true, false, true, null, null, "live", "None")]
    [InlineData(false, true, true, null, null, "lines", "Json")]
    [InlineData(true, true, false, null, null, null, "None")]
    public void Progress_is_shown_as_the_flags_the_terminal_and_the_environment_say(
        bool quiet, bool json, bool terminal, string? term, string? jupyter, string? forced, string expected)
    {
        var environment = new Dictionary<string, string?> { ["TERM"] = term, ["JPY_PARENT_PID"] = jupyter, [ProgressDisplays.ModeVariable] = forced };

        Assert.Equal(Enum.Parse<ProgressMode>(expected), ProgressDisplays.Choose(quiet, json, terminal, name => environment.GetValueOrDefault(name)));
    }

    [Theory]
    [InlineData("COLAB_RELEASE_TAG", "release-colab_20261201-060000")]
    [InlineData("KAGGLE_KERNEL_RUN_TYPE", "Interactive")]
    public void A_hosted_notebook_gets_plain_lines_on_its_pseudo_terminal(string variable, string value)
    {
        var environment = new Dictionary<string, string?> { ["TERM"] = "xterm-256color", [variable] = value };

        Assert.Equal(ProgressMode.Lines, ProgressDisplays.Choose(false, false, true, name => environment.GetValueOrDefault(name)));
    }

    [Fact]
    public void The_children_of_an_ipython_kernel_get_plain_lines_on_its_pseudo_terminal()
    {
        var kernel = new Dictionary<string, string?> { ["TERM"] = "xterm-color", ["CLICOLOR"] = "1", ["PAGER"] = "cat" };
        var shell = new Dictionary<string, string?> { ["TERM"] = "xterm-color", ["PAGER"] = "less" };

        Assert.Equal(ProgressMode.Lines, ProgressDisplays.Choose(false, false, true, name => kernel.GetValueOrDefault(name)));
        Assert.Equal(ProgressMode.Live, ProgressDisplays.Choose(false, false, true, name => shell.GetValueOrDefault(name)));
    }

    [Fact]
    public void An_unknown_progress_style_is_a_usage_error_naming_the_choices()
    {
        var error = Assert.Throws<UsageException>(() => ProgressDisplays.Choose(false, false, true, name => name == ProgressDisplays.ModeVariable ? "fancy" : null));

        Assert.Contains("live, lines or none", error.Message, StringComparison.Ordinal);
    }
}

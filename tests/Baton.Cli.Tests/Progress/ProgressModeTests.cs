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

    [Fact]
    public void An_unknown_progress_style_is_a_usage_error_naming_the_choices()
    {
        var error = Assert.Throws<UsageException>(() => ProgressDisplays.Choose(false, false, true, name => name == ProgressDisplays.ModeVariable ? "fancy" : null));

        Assert.Contains("live, lines or none", error.Message, StringComparison.Ordinal);
    }
}

using Baton.Supervision;

namespace Baton.Tests.Supervision;

public sealed class ParsingTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("11h30m", 41400)]
    [InlineData("1.5h", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("2d", 172800)]
    [InlineData("90", 90)]
    [InlineData("1m30s", 90)]
    public void Durations_are_read_as_people_write_them(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.Parse(text, "--grace"));

    [Theory]
    [InlineData("soon")]
    [InlineData("10x")]
    [InlineData("")]
    [InlineData("-5s")]
    public void Anything_else_is_a_usage_error_naming_the_option(string text)
    {
        var error = Assert.Throws<UsageException>(() => Durations.Parse(text, "--grace"));
        Assert.StartsWith("--grace", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SIGTERM", 15)]
    [InlineData("term", 15)]
    [InlineData("SIGUSR1", 10)]
    [InlineData("INT", 2)]
    [InlineData("9", 9)]
    public void Signals_are_read_by_name_or_number(string text, int number) =>
        Assert.Equal(number, SignalNames.Parse(text, "--signal"));

    [Fact]
    public void An_unknown_signal_is_a_usage_error() =>
        Assert.Throws<UsageException>(() => SignalNames.Parse("SIGWHATEVER", "--signal"));

    [Fact]
    public void Signal_numbers_have_names_for_messages()
    {
        Assert.Equal("SIGTERM", SignalNames.Name(15));
        Assert.Equal("SIGKILL", SignalNames.Name(9));
        Assert.Equal("signal 42", SignalNames.Name(42));
    }

    [Theory]
    [InlineData("--resume_training", new[] { "--resume_training" })]
    [InlineData("--resume --from 'a b' \"c d\"", new[] { "--resume", "--from", "a b", "c d" })]
    [InlineData("  x\\ y  ''  ", new[] { "x y", "" })]
    [InlineData("--hparams=\"data_set=[eye.npz]\"", new[] { "--hparams=data_set=[eye.npz]" })]
    public void Resume_arguments_split_like_a_shell(string text, string[] expected) =>
        Assert.Equal(expected, ArgumentSplitter.Split(text));

    [Fact]
    public void An_unclosed_quote_is_a_usage_error() =>
        Assert.Throws<UsageException>(() => ArgumentSplitter.Split("--resume 'oops"));

    [Fact]
    public void A_command_is_found_on_path_or_refused_in_one_line()
    {
        Assert.Equal("/bin/sh", CommandLocator.Resolve("sh", "/nowhere:/bin"));
        var error = Assert.Throws<UsageException>(() => CommandLocator.Resolve("no-such-trainer-4d2f", "/bin:/usr/bin"));
        Assert.Contains("not found on PATH", error.Message, StringComparison.Ordinal);
        Assert.Throws<UsageException>(() => CommandLocator.Resolve("./no/such/train.sh"));
    }
}

namespace Baton.Cli;

/// <summary>Turns an exception into the one-line message and exit code a user sees.</summary>
internal static class CommandErrors
{
    public static int Report(Exception exception, TextWriter error)
    {
        var (code, message) = exception switch
        {
            OperationCanceledException => (ExitCodes.Interrupted, "interrupted; nothing partial was committed"),
            BatonException e => (ExitCodes.For(e.Category), e.Message),
            UnauthorizedAccessException e => (ExitCodes.Failure, e.Message),
            IOException e => (ExitCodes.Failure, e.Message),
            _ => (ExitCodes.Failure, $"unexpected error: {exception.GetType().Name}: {exception.Message}"),
        };
        error.WriteLine($"baton: {OneLine(message)}");
        if (exception is not BatonException and not OperationCanceledException && CliContext.Current.GetEnvironmentVariable("BATON_DEBUG") == "1")
        {
            error.WriteLine(exception);
        }

        return code;
    }


    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}

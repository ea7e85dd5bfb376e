using Baton.Supervision;

namespace Baton.Cli.Rendering;

/// <summary>The supervisor's lines on stderr, prefixed so that they stand out from the trainer's own output.</summary>
internal sealed class SupervisorConsoleLog(TextWriter output) : ISupervisorLog
{
    private readonly Lock _gate = new();

    public void Info(string message) => Write(message);

    public void Warn(string message) => Write(message);

    private void Write(string message)
    {
        lock (_gate)
        {
            output.WriteLine($"baton: {message.ReplaceLineEndings(" ")}");
            output.Flush();
        }
    }
}

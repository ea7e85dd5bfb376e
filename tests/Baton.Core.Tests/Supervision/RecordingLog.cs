using Baton.Supervision;

namespace Baton.Tests.Supervision;

internal sealed class RecordingLog : ISupervisorLog
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public void Info(string message) => Add(message);

    public void Warn(string message) => Add(message);

    private void Add(string message)
    {
        lock (_lines)
        {
            _lines.Add(message);
        }
    }
}

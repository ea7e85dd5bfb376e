namespace Baton.Supervision;

/// <summary>Where the supervisor reports what it does: one short line per event.</summary>
public interface ISupervisorLog
{
    /// <summary>Something the user should know (a push, a restart, a stop).</summary>
    void Info(string message);

    /// <summary>Something that went wrong but did not stop the run.</summary>
    void Warn(string message);
}

namespace Baton.Platform;

/// <summary>How much of a busy machine a push may take from the processes beside it.</summary>
public enum PushPriority
{
    /// <summary>The process's own priority: the push competes with everything else as an equal.</summary>
    Normal,

    /// <summary>Nice 10 and the lowest best-effort I/O level: the push gets about a tenth of a core the trainer wants too.</summary>
    Low,

    /// <summary>SCHED_IDLE, nice 19 and idle-class I/O: the push runs only on CPU time nothing else wants.</summary>
    Idle,
}

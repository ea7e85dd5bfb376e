using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Baton.Platform;

/// <summary>
/// Dedicated threads that lower their own CPU and I/O priority, for work that must yield to a trainer on the same
/// machine. Linux keeps the nice value, the scheduling policy and the I/O priority per thread, and an unprivileged
/// thread can never raise them again, so the lowering is done once by threads that only ever run background work,
/// never by pool threads that the rest of the process shares (a trainer spawned from a lowered thread would inherit
/// its priority).
/// </summary>
internal sealed partial class BackgroundThreads : TaskScheduler
{
    /// <summary>The name each thread carries (visible in /proc/PID/task/TID/comm).</summary>
    public const string ThreadName = "baton-push";

    /// <summary>The nice value of <see cref="PushPriority.Low"/> threads.</summary>
    public const int LowNice = 10;

    /// <summary>The nice value of <see cref="PushPriority.Idle"/> threads (they also run under SCHED_IDLE).</summary>
    public const int IdleNice = 19;

    private const int PrioProcess = 0;
    private const int SchedIdle = 5;
    private const int IoprioWhoProcess = 1;
    private const int IoprioClassBestEffort = 2;
    private const int IoprioClassIdle = 3;
    private const int IoprioClassShift = 13;

    private static readonly Lazy<BackgroundThreads> LowThreads = new(() => new BackgroundThreads(PushPriority.Low));
    private static readonly Lazy<BackgroundThreads> IdleThreads = new(() => new BackgroundThreads(PushPriority.Idle));

    [ThreadStatic]
    private static BackgroundThreads? _owner;

    private readonly BlockingCollection<Task> _queue = [];
    private readonly PushPriority _priority;

    private BackgroundThreads(PushPriority priority)
    {
        _priority = priority;
        // Enough threads for every stage of a push (reader, encoders, packer, uploads) to be runnable at once; the
        // kernel, not this count, decides how much of the machine they get.
        for (var i = 0; i < Math.Max(4, Environment.ProcessorCount + 2); i++)
        {
            new Thread(Work) { IsBackground = true, Name = ThreadName }.Start();
        }
    }

    /// <summary>Whether this platform lowers thread priorities (Linux); elsewhere every priority runs as normal.</summary>
    public static bool Supported => OperatingSystem.IsLinux();

    /// <inheritdoc/>
    public override int MaximumConcurrencyLevel => Math.Max(4, Environment.ProcessorCount + 2);

    /// <summary>The scheduler that runs work at the given priority: the thread pool for normal priority.</summary>
    public static TaskScheduler For(PushPriority priority) => priority switch
    {
        _ when !Supported => Default,
        PushPriority.Low => LowThreads.Value,
        PushPriority.Idle => IdleThreads.Value,
        _ => Default,
    };

    /// <summary>
    /// Lowers the calling thread for good: nice <see cref="LowNice"/> and best-effort I/O at its lowest level, or
    /// SCHED_IDLE, nice <see cref="IdleNice"/> and idle-class I/O. Best effort: a kernel that refuses leaves the
    /// thread as it was.
    /// </summary>
    public static void LowerCurrentThread(PushPriority priority)
    {
        if (!Supported || priority == PushPriority.Normal)
        {
            return;
        }

        var thread = GetThreadId();
        if (priority == PushPriority.Idle)
        {
            var none = 0;
            _ = SetScheduler(0, SchedIdle, ref none);
        }

        _ = SetPriority(PrioProcess, thread, priority == PushPriority.Idle ? IdleNice : LowNice);
        var io = priority == PushPriority.Idle ? IoprioClassIdle << IoprioClassShift : (IoprioClassBestEffort << IoprioClassShift) | 7;
        if (IoprioSetNumber() is { } number)
        {
            _ = Syscall(number, IoprioWhoProcess, thread, io);
        }
    }

    /// <inheritdoc/>
    protected override void QueueTask(Task task) => _queue.Add(task);

    // Inlined only on its own threads: elsewhere the task would run at the caller's priority.
    /// <inheritdoc/>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => _owner == this && TryExecuteTask(task);

    /// <inheritdoc/>
    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private void Work()
    {
        _owner = this;
        LowerCurrentThread(_priority);
        foreach (var task in _queue.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }

    // ioprio_set has no libc wrapper; its number differs between architectures.
    private static long? IoprioSetNumber() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 251,
        Architecture.Arm64 => 30,
        _ => null,
    };

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SetScheduler(int pid, int policy, ref int parameter);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int which, int who, int ioprio);
}

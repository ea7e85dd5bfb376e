using System.Runtime.InteropServices;

namespace Baton.Supervision;

/// <summary>
/// A child process in its own process group, so that signals reach the trainer and everything it started (data
/// loader workers, shells) and not the supervisor. Standard input, output and error are inherited, so the trainer's
/// output passes straight through. Every signal starts at its default disposition in the child.
/// </summary>
public sealed class ChildProcess
{
    private readonly TaskCompletionSource<ChildExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _started;
    private readonly TimeProvider _timeProvider;

    private ChildProcess(int id, TimeProvider timeProvider)
    {
        Id = id;
        _timeProvider = timeProvider;
        _started = timeProvider.GetTimestamp();
        var waiter = new Thread(Wait) { IsBackground = true, Name = $"baton wait {id}" };
        waiter.Start();
    }

    /// <summary>The process id, which is also its process group id.</summary>
    public int Id { get; }

    /// <summary>Completes when the process has exited (and been reaped).</summary>
    public Task<ChildExit> Exited => _exited.Task;

    /// <summary>The descriptor number at which the child inherits the lock of its checkpoint directory.</summary>
    public const int InheritedLockDescriptor = 99;

    /// <summary>Starts <paramref name="executable"/> with <paramref name="arguments"/> (argv[0] is the command as typed).</summary>
    /// <param name="executable">The program's path.</param>
    /// <param name="arguments">argv.</param>
    /// <param name="environment">The whole environment of the child.</param>
    /// <param name="timeProvider">The clock for <see cref="ChildExit.Ran"/>.</param>
    /// <param name="inheritedLock">
    /// A descriptor the child (and whatever it starts) inherits as <see cref="InheritedLockDescriptor"/>, so that a lock
    /// on it stays held as long as any process of the trainer's tree lives, or null.
    /// </param>
    /// <exception cref="UsageException">The program cannot be executed.</exception>
    public static unsafe ChildProcess Start(string executable, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, TimeProvider? timeProvider = null,
        int? inheritedLock = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException("baton run supervises trainers on Linux and macOS");
        }

        var strings = new List<IntPtr>();
        var attributes = NativeMemory.AllocZeroed(ProcessInterop.SpawnAttributesSize);
        var actions = NativeMemory.AllocZeroed(ProcessInterop.FileActionsSize);
        var signals = NativeMemory.AllocZeroed(ProcessInterop.SignalSetSize);
        var argv = (byte**)NativeMemory.AllocZeroed((nuint)(arguments.Count + 1), (nuint)sizeof(byte*));
        var envp = (byte**)NativeMemory.AllocZeroed((nuint)(environment.Count + 1), (nuint)sizeof(byte*));
        try
        {
            byte* Utf8(string value)
            {
                var pointer = Marshal.StringToCoTaskMemUTF8(value);
                strings.Add(pointer);
                return (byte*)pointer;
            }

            for (var i = 0; i < arguments.Count; i++)
            {
                argv[i] = Utf8(arguments[i]);
            }

            var e = 0;
            foreach (var (name, value) in environment)
            {
                envp[e++] = Utf8($"{name}={value}");
            }

            Check(ProcessInterop.SpawnAttributesInit(attributes), "posix_spawnattr_init");
            Check(ProcessInterop.FileActionsInit(actions), "posix_spawn_file_actions_init");
            try
            {
                // .NET ignores SIGPIPE and may block signals on its threads; the trainer must start from the defaults.
                ProcessInterop.SignalSetEmpty(signals);
                Check(ProcessInterop.SpawnAttributesSetSignalMask(attributes, signals), "posix_spawnattr_setsigmask");
                for (var signal = 1; signal < 32; signal++)
                {
                    if (signal != SignalNames.Kill && signal != SignalNames.Parse("SIGSTOP", "signal"))
                    {
                        ProcessInterop.SignalSetAdd(signals, signal);
                    }
                }

                Check(ProcessInterop.SpawnAttributesSetSignalDefaults(attributes, signals), "posix_spawnattr_setsigdefault");
                Check(ProcessInterop.SpawnAttributesSetProcessGroup(attributes, 0), "posix_spawnattr_setpgroup");
                Check(ProcessInterop.SpawnAttributesSetFlags(attributes,
                    ProcessInterop.SpawnSetProcessGroup | ProcessInterop.SpawnSetSignalDefaults | ProcessInterop.SpawnSetSignalMask), "posix_spawnattr_setflags");

                if (inheritedLock is { } descriptor)
                {
                    // .NET opens every file close-on-exec; a dup2 onto another number makes an inheritable copy.
                    Check(ProcessInterop.FileActionsAddDup2(actions, descriptor, InheritedLockDescriptor), "posix_spawn_file_actions_adddup2");
                }

                var error = ProcessInterop.PosixSpawn(out var pid, Utf8(executable), actions, attributes, argv, envp);
                if (error != 0)
                {
                    throw new UsageException($"cannot start '{arguments[0]}': {Marshal.GetPInvokeErrorMessage(error)}");
                }

                return new ChildProcess(pid, timeProvider ?? TimeProvider.System);
            }
            finally
            {
                ProcessInterop.SpawnAttributesDestroy(attributes);
                ProcessInterop.FileActionsDestroy(actions);
            }
        }
        finally
        {
            foreach (var pointer in strings)
            {
                Marshal.FreeCoTaskMem(pointer);
            }

            NativeMemory.Free(attributes);
            NativeMemory.Free(actions);
            NativeMemory.Free(signals);
            NativeMemory.Free(argv);
            NativeMemory.Free(envp);
        }
    }

    /// <summary>The current environment with <paramref name="overrides"/> applied.</summary>
    public static Dictionary<string, string> EnvironmentWith(IReadOnlyDictionary<string, string> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            result[(string)entry.Key] = (string?)entry.Value ?? "";
        }

        foreach (var (name, value) in overrides)
        {
            result[name] = value;
        }

        return result;
    }

    /// <summary>Sends <paramref name="signal"/> to the whole process group. A group that is gone is not an error.</summary>
    public void SignalGroup(int signal)
    {
        if (ProcessInterop.Kill(-Id, signal) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != ProcessInterop.NoSuchProcess)
        {
            throw new InvalidOperationException($"kill(-{Id}, {SignalNames.Name(signal)}) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>
    /// The live processes of the child's group: the child itself until it exits, and whatever it started that is still
    /// running (a wrapper shell's trainer, data loader workers), orphaned or not.
    /// </summary>
    public IReadOnlyList<int> GroupMembers() => ProcessTable.GroupMembers(Id);

    /// <summary>Whether the child has exited and nothing of its process group is left running.</summary>
    public bool GroupGone => Exited.IsCompleted && GroupMembers().Count == 0;

    /// <summary>Kills the whole process group at once.</summary>
    public void KillGroup() => SignalGroup(SignalNames.Kill);

    private void Wait()
    {
        int status;
        while (ProcessInterop.WaitPid(Id, out status, 0) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != ProcessInterop.Interrupted)
            {
                // Someone else reaped it: the exit status is lost, report a failure without a code.
                _exited.TrySetResult(new ChildExit(-1, null, _timeProvider.GetElapsedTime(_started)));
                return;
            }
        }

        var ran = _timeProvider.GetElapsedTime(_started);
        var low = status & 0x7f;
        _exited.TrySetResult(low == 0
            ? new ChildExit((status >> 8) & 0xff, null, ran)
            : new ChildExit(null, low, ran));
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{call} failed with error {result}");
        }
    }
}

using System.Runtime.InteropServices;

namespace Baton.Testing;

/// <summary>Sends POSIX signals to real processes (SIGKILL mid-write, SIGTERM, SIGSTOP/SIGCONT).</summary>
public static partial class Signals
{
    public const int SigHup = 1;
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigUsr1 = 10;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    /// <summary>Sends <paramref name="signal"/> to a process (or, with a negative id, a process group).</summary>
    public static void Send(int processId, int signal)
    {
        if (Kill(processId, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            const int NoSuchProcess = 3;
            if (errno != NoSuchProcess)
            {
                throw new InvalidOperationException($"kill({processId}, {signal}) failed with errno {errno}");
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

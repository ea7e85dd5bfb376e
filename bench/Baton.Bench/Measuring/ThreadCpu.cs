using System.Runtime.InteropServices;

namespace Baton.Bench.Measuring;

/// <summary>The calling thread's CPU time (clock_gettime with CLOCK_THREAD_CPUTIME_ID).</summary>
internal static partial class ThreadCpu
{
    private const int ThreadCpuClock = 3;

    public static TimeSpan Now()
    {
        if (ClockGetTime(ThreadCpuClock, out var time) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        }

        return TimeSpan.FromTicks((time.Seconds * TimeSpan.TicksPerSecond) + (time.Nanoseconds / 100));
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

using System.Globalization;

namespace Baton.Supervision;

/// <summary>POSIX signal names and this platform's numbers for them.</summary>
public static class SignalNames
{
    /// <summary>SIGHUP.</summary>
    public const int Hup = 1;

    /// <summary>SIGINT.</summary>
    public const int Int = 2;

    /// <summary>SIGQUIT.</summary>
    public const int Quit = 3;

    /// <summary>SIGKILL.</summary>
    public const int Kill = 9;

    /// <summary>SIGTERM.</summary>
    public const int Term = 15;

    private static readonly (string Name, int Linux, int Mac)[] Table =
    [
        ("HUP", 1, 1), ("INT", 2, 2), ("QUIT", 3, 3), ("KILL", 9, 9), ("USR1", 10, 30), ("USR2", 12, 31),
        ("TERM", 15, 15), ("CONT", 18, 19), ("STOP", 19, 17), ("TSTP", 20, 18), ("XCPU", 24, 24), ("PWR", 30, -1),
    ];

    /// <summary>Parses <c>SIGTERM</c>, <c>TERM</c>, <c>sigusr1</c> or a number.</summary>
    /// <exception cref="UsageException">Not a signal this platform knows.</exception>
    public static int Parse(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = text.Trim().ToUpperInvariant();
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and < 65)
        {
            return number;
        }

        name = name.StartsWith("SIG", StringComparison.Ordinal) ? name[3..] : name;
        foreach (var (known, linux, mac) in Table)
        {
            var value = OperatingSystem.IsMacOS() ? mac : linux;
            if (known == name && value > 0)
            {
                return value;
            }
        }

        throw new UsageException($"{what} '{text}' is not a signal: use a name such as SIGTERM, SIGINT or SIGUSR1, or a number");
    }

    /// <summary>"SIGTERM" for 15; "signal 42" for numbers without a name.</summary>
    public static string Name(int signal)
    {
        foreach (var (known, linux, mac) in Table)
        {
            if ((OperatingSystem.IsMacOS() ? mac : linux) == signal)
            {
                return "SIG" + known;
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"signal {signal}");
    }
}

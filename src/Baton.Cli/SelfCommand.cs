using System.Reflection;

namespace Baton.Cli;

/// <summary>How to start this same baton again as a child process (the demo starts supervisors and trainers).</summary>
internal static class SelfCommand
{
    /// <summary>
    /// The program and leading arguments: the single-file or apphost binary alone, or <c>dotnet baton.dll</c> when
    /// this process runs under the dotnet host.
    /// </summary>
    public static IReadOnlyList<string> Prefix()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell where this baton binary is");
        var assembly = Assembly.GetEntryAssembly()?.Location;
        var underHost = Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        return underHost && !string.IsNullOrEmpty(assembly) ? [process, assembly] : [process];
    }
}

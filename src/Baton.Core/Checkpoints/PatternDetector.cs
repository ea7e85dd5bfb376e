using System.Text;
using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// Any layout, described by a glob with a <c>{step}</c> placeholder (<c>ckpt-{step}.bin</c>,
/// <c>step_{step}/*.safetensors</c>; <c>*</c>, <c>?</c> and <c>**</c> work as in a shell). The files matching one
/// step form its checkpoint, complete when none of them has changed for the quiet period. A glob without
/// <c>{step}</c> (<c>last.pt</c>, <c>weights/*.bin</c>) makes every matching file one checkpoint, whose step comes
/// from <see cref="DetectorOptions.StepFrom"/> or is unknown; <c>--format dir</c> is the glob <c>**</c>: the whole
/// directory.
/// </summary>
public sealed class PatternDetector : CheckpointDetector
{
    private readonly Regex _regex;
    private readonly bool _recursive;
    private readonly bool _fixed;
    private readonly string _name;

    /// <summary>Creates the detector; <paramref name="name"/> is how <c>--format</c> called it.</summary>
    /// <exception cref="UsageException">The glob is empty, or would reach outside the directory.</exception>
    public PatternDetector(string glob, DetectorOptions options, string name = "pattern")
        : base(options)
    {
        ArgumentNullException.ThrowIfNull(glob);
        if (glob.Length == 0)
        {
            throw new UsageException("pattern: needs a glob: write e.g. pattern:ckpt-{step}.pt, or pattern:last.pt for a fixed name");
        }

        if (glob.StartsWith('/') || glob.Split('/').Any(s => s is ".." or "."))
        {
            throw new UsageException($"pattern '{glob}' must be relative to the checkpoint directory, without '.' or '..'");
        }

        Glob = glob;
        _name = name;
        _fixed = !glob.Contains("{step}", StringComparison.Ordinal);
        _regex = ToRegex(glob);
        _recursive = glob.Contains('/', StringComparison.Ordinal) || glob.Contains("**", StringComparison.Ordinal);
    }

    /// <summary>The glob.</summary>
    public string Glob { get; }

    /// <inheritdoc />
    public override string Name => _name;

    /// <inheritdoc />
    public override string? Recognize(string directory) => $"the pattern {Glob}";

    internal override Checkpoint? Scan(ScanContext context)
    {
        var files = _recursive ? context.FilesUnder("") : context.Names("", directories: false);
        if (_fixed)
        {
            return ScanFixed(context, files);
        }

        var byStep = new SortedDictionary<long, List<string>>();
        foreach (var file in files)
        {
            var match = _regex.Match(file);
            if (match.Success && StepNumbers.Parse(match.Groups["step"].Value) is { } step)
            {
                if (!byStep.TryGetValue(step, out var list))
                {
                    byStep[step] = list = [];
                }

                list.Add(file);
            }
        }

        Checkpoint? newest = null;
        foreach (var (step, stepFiles) in byStep.Reverse())
        {
            var settled = context.Settled(stepFiles, context.Options.QuietPeriod);
            if (newest is null && settled)
            {
                newest = context.Found(Name, step, stepFiles.Count == 1 ? stepFiles[0] : Glob.Replace("{step}", step.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), stepFiles);
            }
        }

        return newest;
    }

    // Every matching file is one checkpoint; it is complete when none of them has changed for the quiet period.
    private Checkpoint? ScanFixed(ScanContext context, List<string> files)
    {
        var matching = files.Where(f => _regex.IsMatch(f)).ToList();
        if (matching.Count == 0 || !context.Settled(matching, context.Options.QuietPeriod))
        {
            return null;
        }

        var step = Options.StepFrom is null ? null : matching.Select(f => StepOf(f, _ => null)).Max();
        return context.Found(Name, step, matching.Count == 1 ? matching[0] : Glob, matching);
    }

    private static Regex ToRegex(string glob)
    {
        var pattern = new StringBuilder("^");
        var seenStep = false;
        for (var i = 0; i < glob.Length; i++)
        {
            if (string.CompareOrdinal(glob, i, "{step}", 0, 6) == 0)
            {
                pattern.Append(seenStep ? @"\k<step>" : @"(?<step>\d+)");
                seenStep = true;
                i += 5;
            }
            else if (string.CompareOrdinal(glob, i, "**/", 0, 3) == 0)
            {
                pattern.Append("(?:.*/)?");
                i += 2;
            }
            else if (string.CompareOrdinal(glob, i, "**", 0, 2) == 0)
            {
                pattern.Append(".*");
                i++;
            }
            else
            {
                pattern.Append(glob[i] switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    var c => Regex.Escape(c.ToString()),
                });
            }
        }

        return new Regex(pattern.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}

using System.Text;
using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// Any layout, described by a glob with a <c>{step}</c> placeholder (<c>ckpt-{step}.bin</c>,
/// <c>step_{step}/*.safetensors</c>; <c>*</c>, <c>?</c> and <c>**</c> work as in a shell). The files matching one
/// step form its checkpoint, complete when none of them has changed for the quiet period.
/// </summary>
public sealed class PatternDetector : CheckpointDetector
{
    private readonly Regex _regex;
    private readonly bool _recursive;

    /// <summary>Creates the detector.</summary>
    /// <exception cref="UsageException">The glob has no <c>{step}</c>, or would reach outside the directory.</exception>
    public PatternDetector(string glob, DetectorOptions options)
        : base(options)
    {
        if (!glob.Contains("{step}", StringComparison.Ordinal))
        {
            throw new UsageException($"pattern '{glob}' has no {{step}}: write where the step number appears, e.g. pattern:ckpt-{{step}}.pt");
        }

        if (glob.StartsWith('/') || glob.Split('/').Any(s => s is ".." or "."))
        {
            throw new UsageException($"pattern '{glob}' must be relative to the checkpoint directory, without '.' or '..'");
        }

        Glob = glob;
        _regex = ToRegex(glob);
        _recursive = glob.Contains('/', StringComparison.Ordinal);
    }

    /// <summary>The glob.</summary>
    public string Glob { get; }

    /// <inheritdoc />
    public override string Name => "pattern";

    /// <inheritdoc />
    public override string? Recognize(string directory) => $"the pattern {Glob}";

    internal override Checkpoint? Scan(ScanContext context)
    {
        var files = _recursive ? context.FilesUnder("") : context.Names("", directories: false);
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

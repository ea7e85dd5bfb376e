using System.Text.Json.Serialization;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Baton.Cli.Configuration;

/// <summary>
/// <c>baton.toml</c> in the working directory: defaults for the flags, so that a notebook cell can be just
/// <c>!baton run -- python train.py</c>. Flags win over environment variables, which win over this file.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class ConfigFile
{
    public const string FileName = "baton.toml";

    public string? Store { get; set; }
    public string? Run { get; set; }
    public string? Dir { get; set; }
    public string? Format { get; set; }
    public string? Compression { get; set; }
    public string? ResumeArgs { get; set; }
    public List<string>? Data { get; set; }
    public string? PasswordFile { get; set; }
    public string? KeyFile { get; set; }
    public KeepSection? Keep { get; set; }

    /// <summary>Where it was read from, or null when there is no file.</summary>
    [JsonIgnore]
    public string? Path { get; private set; }

    /// <summary>The file of the current directory (empty when there is none), read once per run.</summary>
    public static ConfigFile Current => CliContext.Current.Config;

    /// <summary>Reads <c>baton.toml</c> from a directory.</summary>
    /// <exception cref="UsageException">The file is not valid TOML or has an unknown key.</exception>
    public static ConfigFile Load(string directory)
    {
        var path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return new ConfigFile();
        }

        ConfigFile? config;
        try
        {
            var text = File.ReadAllText(path);
            RejectUnknownKeys(TomlSerializer.Deserialize(text, ConfigToml.Default.TomlTable), path);
            config = TomlSerializer.Deserialize(text, ConfigToml.Default.ConfigFile);
        }
        catch (TomlException e)
        {
            throw new UsageException($"{path}: {e.Message.ReplaceLineEndings(" ")}", e);
        }

        config ??= new ConfigFile();
        config.Path = path;
        return config;
    }

    // A misspelt key would otherwise be ignored silently and the run would go to the wrong place.
    private static void RejectUnknownKeys(TomlTable? table, string path)
    {
        string[] known = ["store", "run", "dir", "format", "compression", "resume_args", "data", "password_file", "key_file", "keep"];
        string[] keep = ["last", "every", "within"];
        foreach (var (key, value) in table ?? [])
        {
            if (!known.Contains(key))
            {
                throw new UsageException($"{path}: unknown key '{key}': the keys are {string.Join(", ", known)}");
            }

            if (key == "keep" && value is TomlTable section && section.Keys.FirstOrDefault(k => !keep.Contains(k)) is { } unknown)
            {
                throw new UsageException($"{path}: unknown key 'keep.{unknown}': the keys of [keep] are {string.Join(", ", keep)}");
            }
        }
    }
}

/// <summary>The <c>[keep]</c> table: the retention policy.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class KeepSection
{
    public int? Last { get; set; }
    public long? Every { get; set; }
    public string? Within { get; set; }
}

[TomlSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[TomlSerializable(typeof(ConfigFile))]
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class ConfigToml : TomlSerializerContext;

namespace Baton.Testing;

/// <summary>Finds the repository's root and the tools <c>eng/install-test-deps.sh</c> installs under it.</summary>
public static class RepositoryRoot
{
    /// <summary>The folder holding <c>Baton.slnx</c>, found upwards from the test assembly.</summary>
    public static string Path
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Baton.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException($"no Baton.slnx above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>
    /// The path of an npm tool installed into <c>.build/node</c> (s3rver, azurite-blob); an error naming the install
    /// script when it is missing.
    /// </summary>
    public static string NodeTool(string name)
    {
        var path = System.IO.Path.Combine(Path, ".build", "node", "node_modules", ".bin", name);
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{name} is not installed at {path}: run eng/install-test-deps.sh (./test does)");
    }
}

namespace Baton.Testing;

/// <summary>The root of the source checkout the tests were built from (the folder holding Baton.slnx).</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Baton.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("cannot find Baton.slnx above " + AppContext.BaseDirectory);
    }
}

using System.Reflection;
using Baton.Repositories;
using NetArchTest.Rules;

namespace Baton.Tests.Architecture;

/// <summary>
/// The layers of Baton.Core (docs/DESIGN.md, "Layers"): a namespace uses only namespaces of lower layers, never one
/// of its own layer or above, so the folders form no cycle. Checked on the compiled IL, so a dependency through a
/// field, signature, generic argument or method body counts, and one in a comment does not.
/// </summary>
public sealed class LayerTests
{
    /// <summary>Lowest first. A namespace stands for itself and its sub-namespaces (Baton.Storage.Folder is Storage).</summary>
    internal static readonly string[][] Layers =
    [
        ["Baton"],
        ["Baton.Platform"],
        ["Baton.Storage"],
        ["Baton.Chunking", "Baton.Compression"],
        ["Baton.Encryption"],
        ["Baton.Packs"],
        ["Baton.Index"],
        ["Baton.Repositories"],
        ["Baton.Leases", "Baton.Retention", "Baton.Journal"],
        ["Baton.Groups"],
        ["Baton.Maintenance"],
        ["Baton.Snapshots", "Baton.Checking"],
        ["Baton.Checkpoints"],
        ["Baton.Staging"],
        ["Baton.Runs"],
        ["Baton.Supervision"],
    ];

    private static readonly Assembly Core = typeof(Repository).Assembly;

    public static TheoryData<string> LayeredNamespaces() => [.. Layers.SelectMany(l => l).Where(n => n != "Baton")];

    [Fact]
    public void Every_namespace_of_the_core_has_a_layer()
    {
        var unplaced = Core.GetTypes().Select(t => t.Namespace).OfType<string>()
            .Where(n => n.StartsWith("Baton", StringComparison.Ordinal) && LayerOf(n) < 0)
            .Distinct().Order(StringComparer.Ordinal).ToList();

        Assert.True(unplaced.Count == 0, $"namespaces with no layer: {string.Join(", ", unplaced)}; add each to LayerTests.Layers and docs/DESIGN.md");
    }

    [Theory]
    [MemberData(nameof(LayeredNamespaces))]
    public void A_namespace_uses_only_lower_layers(string ns)
    {
        var layer = LayerOf(ns);
        var forbidden = Layers.Skip(layer).SelectMany(l => l).Where(n => n != ns && !ns.StartsWith(n + ".", StringComparison.Ordinal)).ToArray();

        var result = Types.InAssembly(Core).That().ResideInNamespaceMatching(Within(ns)).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful, $"{ns} (layer {layer}) uses its own layer or a higher one: {Describe(result)}");
    }

    [Fact]
    public void The_root_namespace_uses_no_other_namespace_of_the_core()
    {
        var others = Layers.Skip(1).SelectMany(l => l).ToArray();

        var result = Types.InAssembly(Core).That().ResideInNamespaceMatching(@"^Baton$").ShouldNot().HaveDependencyOnAny(others).GetResult();

        Assert.True(result.IsSuccessful, $"the root namespace uses a higher layer: {Describe(result)}");
    }

    [Fact]
    public void The_core_does_not_reference_the_command_line()
    {
        Assert.DoesNotContain(Core.GetReferencedAssemblies(), a => a.Name is not null && a.Name.StartsWith("Baton.Cli", StringComparison.Ordinal));
    }

    public static TheoryData<string> StoreAssemblies() =>
    [
        typeof(global::Baton.Storage.Azure.AzureBlobStore).Assembly.GetName().Name!,
        typeof(global::Baton.Storage.Rclone.RcloneStore).Assembly.GetName().Name!,
        typeof(global::Baton.Storage.S3.S3Store).Assembly.GetName().Name!,
        typeof(global::Baton.Storage.Sftp.SftpStore).Assembly.GetName().Name!,
    ];

    [Theory]
    [MemberData(nameof(StoreAssemblies))]
    public void A_store_assembly_uses_only_storage_and_primitives_of_the_core(string assembly)
    {
        // Storage, Platform and the root's primitives (errors, ContentId) are allowed; the repository format is not.
        var forbidden = Layers.Skip(3).SelectMany(l => l).Append(typeof(RepositoryLayout).FullName!).ToArray();

        var result = Types.InAssembly(Assembly.Load(assembly)).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful, $"{assembly} uses more of Baton.Core than its storage layer: {Describe(result)}");
    }

    private static int LayerOf(string ns) =>
        Array.FindIndex(Layers, l => l.Any(n => n == ns || (n != "Baton" && ns.StartsWith(n + ".", StringComparison.Ordinal))));

    private static string Describe(TestResult result) =>
        string.Join("; ", (result.FailingTypes ?? []).Select(t => $"{t.FullName} ({t.Explanation})"));

    // The namespace and its sub-namespaces.
    private static string Within(string ns) => "^" + System.Text.RegularExpressions.Regex.Escape(ns) + @"(\..+)?$";
}

using System.Text.Json;
using Baton.Testing;

namespace Baton.Storage.S3.Tests;

/// <summary>The real baton process against s3rver, configured only through the AWS environment variables.</summary>
[Collection("s3rver")]
public sealed class S3CommandLineTests(S3rverFixture s3) : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task Push_ls_pull_and_check_round_trip_through_an_s3_bucket()
    {
        await RoundTripAsync("s3://cli-round-trip/runs/" + Guid.NewGuid().ToString("N")[..8], s3.CliEnvironment());
    }

    [Fact(Timeout = 180_000)]
    public async Task A_gs_address_round_trips_through_the_s3_interoperable_api()
    {
        var environment = s3.CliEnvironment();
        environment["BATON_GS_ENDPOINT"] = s3.Endpoint.ToString();
        // s3rver ignores the generation precondition as it ignores If-None-Match: say so, as a user of such a server would.
        environment["BATON_S3_ATOMIC_CREATE"] = "false";
        await RoundTripAsync("gs://cli-gcs/runs/" + Guid.NewGuid().ToString("N")[..8], environment);
    }

    [Fact(Timeout = 120_000)]
    public async Task Doctor_passes_s3rver_with_a_warning_that_create_if_absent_is_not_atomic()
    {
        var result = await BatonCli.RunAsync(["doctor", "--store", "s3://doctor/p", "--size", "2"], environment: s3.CliEnvironment());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^warn\s+create-if-absent\s+not atomic", result.StdOut);
        foreach (var check in new[] { "reach", "credentials", "write", "read", "list", "throughput", "delete" })
        {
            Assert.Matches($@"(?m)^ok\s+{check}\s", result.StdOut);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Doctor_fails_with_exit_3_when_told_to_trust_a_server_that_ignores_conditional_writes()
    {
        var environment = s3.CliEnvironment();
        environment["BATON_S3_ATOMIC_CREATE"] = "true";
        var result = await BatonCli.RunAsync(["doctor", "--store", "s3://doctor/trusting", "--size", "0"], environment: environment);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Matches(@"(?m)^FAIL\s+create-if-absent\s+an existing object was replaced", result.StdOut);
        Assert.Matches(@"(?m)^ok\s+delete\s", result.StdOut);
    }

    [Fact(Timeout = 120_000)]
    public async Task Doctor_passes_a_server_that_enforces_create_if_absent_when_told_to_trust_it()
    {
        await using var server = new MiniS3Server("enforcing");
        var environment = s3.CliEnvironment();
        environment["AWS_ENDPOINT_URL_S3"] = server.Endpoint.ToString();
        environment["BATON_S3_ATOMIC_CREATE"] = "true";
        var result = await BatonCli.RunAsync(["doctor", "--store", "s3://enforcing/p", "--size", "1"], environment: environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^ok\s+create-if-absent\s+enforced by the store", result.StdOut);
        Assert.DoesNotMatch(@"(?m)^(warn|FAIL)", result.StdOut);
    }

    public void Dispose() => _temp.Dispose();

    private async Task RoundTripAsync(string store, Dictionary<string, string?> environment)
    {
        var source = _temp.Combine("src-" + Guid.NewGuid().ToString("N")[..6]);
        TestData.WriteRandomFile(Path.Combine(source, "model.ckpt"), 3_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "optimizer", "adam.bin"), 400_000, 2);
        File.WriteAllText(Path.Combine(source, "trainer_state.json"), "{\"step\": 5}");

        var push = await BatonCli.RunAsync(["push", source, "--store", store, "--run", "exp", "--step", "5", "--quiet"], environment: environment);
        Assert.True(push.ExitCode == 0, push.ToString());
        var id = push.StdOut.Trim();

        var ls = await BatonCli.RunAsync(["ls", "--store", store, "--json"], environment: environment);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        using (var listed = JsonDocument.Parse(ls.StdOut))
        {
            var snapshot = Assert.Single(listed.RootElement.EnumerateArray());
            Assert.Equal(id, snapshot.GetProperty("id").GetString());
            Assert.Equal(5, snapshot.GetProperty("step").GetInt64());
        }

        var target = _temp.Combine("dst-" + Guid.NewGuid().ToString("N")[..6]);
        var pull = await BatonCli.RunAsync(["pull", target, "--store", store, "--run", "exp", "--quiet"], environment: environment);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        TestData.AssertSameTree(source, target);

        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data", "--quiet"], environment: environment);
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.StartsWith("no errors", check.StdOut.Trim(), StringComparison.Ordinal);
    }
}

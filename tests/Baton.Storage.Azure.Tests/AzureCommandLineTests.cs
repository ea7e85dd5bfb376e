using System.Text.Json;
using Azure.Storage;
using Azure.Storage.Sas;
using Baton.Testing;

namespace Baton.Storage.Azure.Tests;

/// <summary>The real baton process against Azurite, configured only through AZURE_STORAGE_CONNECTION_STRING.</summary>
[Collection("azurite")]
public sealed class AzureCommandLineTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task Push_ls_pull_and_check_round_trip_through_a_container()
    {
        var store = "az://cli-round-trip/runs/" + Guid.NewGuid().ToString("N")[..8];
        var environment = azurite.CliEnvironment();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "model.ckpt"), 3_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "optimizer", "adam.bin"), 400_000, 2);

        var push = await BatonCli.RunAsync(["push", source, "--store", store, "--run", "exp", "--step", "7"], environment: environment);
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.DoesNotContain("cannot enforce create-if-absent", push.StdErr, StringComparison.Ordinal);
        var id = push.StdOut.Trim();

        var ls = await BatonCli.RunAsync(["ls", "--store", store, "--json"], environment: environment);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        using (var listed = JsonDocument.Parse(ls.StdOut))
        {
            Assert.Equal(id, Assert.Single(listed.RootElement.EnumerateArray()).GetProperty("id").GetString());
        }

        var target = _temp.Combine("dst");
        var pull = await BatonCli.RunAsync(["pull", target, "--store", store, "--run", "exp", "--quiet"], environment: environment);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        TestData.AssertSameTree(source, target);

        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data", "--quiet"], environment: environment);
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.DoesNotContain(AzuriteFixture.AccountKey, push.StdOut + push.StdErr + ls.StdOut + pull.StdErr + check.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Doctor_finds_every_check_passing_and_create_if_absent_enforced()
    {
        var result = await BatonCli.RunAsync(["doctor", "--store", "az://doctor/p", "--size", "2"], environment: azurite.CliEnvironment());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^ok\s+create-if-absent\s+enforced by the store", result.StdOut);
        Assert.DoesNotMatch(@"(?m)^(warn|FAIL|skip)", result.StdOut);
    }

    public void Dispose() => _temp.Dispose();
}

/// <summary>
/// Missing credentials, a wrong endpoint, a wrong key, denied access and a container that cannot be created: each is
/// one line on stderr naming the store and what to set, exit 3, and never the key or signature.
/// </summary>
[Collection("azurite")]
public sealed class AzureBadInputTests(AzuriteFixture azurite) : IDisposable
{
    private const string WrongKey = "d3Jvbmcta2V5LXRoYXQtaXMtbm90LXJlYWw=";
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task Missing_credentials_say_which_variables_to_set()
    {
        var environment = azurite.CliEnvironment();
        environment["AZURE_STORAGE_CONNECTION_STRING"] = null;
        var result = await BatonCli.RunAsync(["ls", "--store", "az://no-credentials/p"], environment: environment);

        AssertOneLineAccessError(result, "no Azure credentials for az://no-credentials/p: set AZURE_STORAGE_CONNECTION_STRING", []);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_closed_port_says_the_endpoint_cannot_be_reached()
    {
        var connection = azurite.ConnectionString().Replace($":{azurite.Server.Port}/", $":{FreePort.Next()}/", StringComparison.Ordinal);
        var result = await BatonCli.RunAsync(["ls", "--store", "az://closed-port/p"], environment: azurite.CliEnvironment(connection));

        AssertOneLineAccessError(result, "cannot reach az://closed-port/p (account devstoreaccount1): connection refused", [AzuriteFixture.AccountKey]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wrong_account_key_is_refused_without_showing_the_key()
    {
        var result = await BatonCli.RunAsync(["ls", "--store", "az://wrong-key/p"], environment: azurite.CliEnvironment(azurite.ConnectionString(WrongKey)));

        AssertOneLineAccessError(result, "az://wrong-key/p (account devstoreaccount1)", [WrongKey]);
        Assert.Contains("AZURE_STORAGE_CONNECTION_STRING", result.StdErr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_only_signature_is_denied_writes_and_never_shown()
    {
        var sas = Sas(AccountSasPermissions.Read | AccountSasPermissions.List, AccountSasResourceTypes.Container | AccountSasResourceTypes.Object);
        var result = await PushAsync("az://read-only/p", sas);

        AssertOneLineAccessError(result, "access denied", [SignatureOf(sas)]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_container_that_may_not_be_created_fails_the_push_and_says_so()
    {
        // A signature for one container may do everything inside it, but not create it.
        var builder = new BlobSasBuilder(BlobContainerSasPermissions.All, DateTimeOffset.UnixEpoch.AddYears(100))
        {
            BlobContainerName = "missing-container",
            Resource = "c",
            Protocol = SasProtocol.HttpsAndHttp,
        };
        var sas = builder.ToSasQueryParameters(new StorageSharedKeyCredential(AzuriteFixture.Account, AzuriteFixture.AccountKey)).ToString();
        var result = await PushAsync("az://missing-container/p", sas);

        AssertOneLineAccessError(result, "container 'missing-container' of az://missing-container/p", [SignatureOf(sas)]);
        Assert.Contains("does not exist and could not be created", result.StdErr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_malformed_connection_string_is_a_usage_error_that_does_not_echo_it()
    {
        var result = await BatonCli.RunAsync(["ls", "--store", "az://any/p"], environment: azurite.CliEnvironment("AccountKey=" + WrongKey + ";garbage"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("AZURE_STORAGE_CONNECTION_STRING is not a valid connection string", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongKey, result.StdErr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private async Task<CliResult> PushAsync(string store, string sas)
    {
        var source = _temp.Combine("src-" + Guid.NewGuid().ToString("N")[..6]);
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 1000, 1);
        var connection = $"BlobEndpoint=http://127.0.0.1:{azurite.Server.Port}/{AzuriteFixture.Account};SharedAccessSignature={sas}";
        return await BatonCli.RunAsync(["push", source, "--store", store, "--run", "r", "--quiet"], environment: azurite.CliEnvironment(connection));
    }

    private static string Sas(AccountSasPermissions permissions, AccountSasResourceTypes resources)
    {
        var builder = new AccountSasBuilder(permissions, DateTimeOffset.UnixEpoch.AddYears(100), AccountSasServices.Blobs, resources)
        {
            Protocol = SasProtocol.HttpsAndHttp,
        };
        return builder.ToSasQueryParameters(new StorageSharedKeyCredential(AzuriteFixture.Account, AzuriteFixture.AccountKey)).ToString();
    }

    private static string SignatureOf(string sas) =>
        Uri.UnescapeDataString(sas.Split('&').Single(p => p.StartsWith("sig=", StringComparison.Ordinal))["sig=".Length..]);

    private static void AssertOneLineAccessError(CliResult result, string expected, string[] secrets)
    {
        Assert.True(result.ExitCode == 3, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("baton: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, result.StdOut + result.StdErr, StringComparison.Ordinal);
        }
    }
}

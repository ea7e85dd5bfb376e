using System.Text;
using Amazon.Runtime;

namespace Baton.Storage.S3.Tests;

/// <summary>What the S3 store does against s3rver beyond the conformance suite, and the s3rver quirks it works around.</summary>
[Collection("s3rver")]
public sealed class S3StoreOnS3rverTests(S3rverFixture s3)
{
    [Fact(Timeout = 60_000)]
    public async Task Objects_are_stored_as_their_plain_bytes_not_as_chunk_signed_payloads()
    {
        var options = s3.Options("plain", "p-" + Guid.NewGuid().ToString("N")[..8]) with { PartSize = 5 * 1024 * 1024, MultipartThreshold = 6 * 1024 * 1024 };
        await using var store = new S3Store(options);
        var small = Bytes(70_000, 1);
        var large = Bytes(12 * 1024 * 1024 + 5, 2);
        await store.PutAsync("small", small, PutMode.Overwrite);
        await store.PutAsync("large", large, PutMode.Overwrite);

        Assert.Equal(small, await File.ReadAllBytesAsync(Path.Combine(s3.DataPath, "plain", options.Prefix, "small._S3rver_object")));
        Assert.Equal(large, await File.ReadAllBytesAsync(Path.Combine(s3.DataPath, "plain", options.Prefix, "large._S3rver_object")));
    }

    [Fact(Timeout = 60_000)]
    public async Task S3rver_ignores_if_none_match_which_is_why_the_store_does_not_trust_custom_endpoints_by_default()
    {
        var trusting = new S3Store(s3.Options("quirks", "p-" + Guid.NewGuid().ToString("N")[..8]) with { AtomicCreate = true });
        await using (trusting)
        {
            await trusting.PutAsync("manifest", "first"u8.ToArray(), PutMode.CreateNew);
            await trusting.PutAsync("manifest", "second"u8.ToArray(), PutMode.CreateNew);
            Assert.Equal("second", Encoding.UTF8.GetString(await trusting.ReadAllAsync("manifest")));
        }

        var environment = new Dictionary<string, string?> { ["AWS_ENDPOINT_URL_S3"] = s3.Endpoint.ToString(), ["AWS_REGION"] = "us-east-1" };
        var defaults = new S3StoreProvider(environment.GetValueOrDefault).OptionsFor(StoreUri.Parse("s3://quirks/p"));
        Assert.False(defaults.AtomicCreate);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_server_survives_a_put_racing_the_delete_of_the_last_object_in_its_folder()
    {
        // Plain s3rver removes the emptied folder under the put, and the put's unhandled stream error kills it.
        await using var store = new S3Store(s3.Options("racing", "p-" + Guid.NewGuid().ToString("N")[..8]));
        await store.PutAsync("group/a/0", "x"u8.ToArray(), PutMode.Overwrite);
        for (var round = 0; round < 300; round++)
        {
            await Task.WhenAll(
                store.PutAsync($"group/a/{(round + 1) % 2}", "x"u8.ToArray(), PutMode.Overwrite),
                store.DeleteAsync($"group/a/{round % 2}"));
        }

        Assert.Single(await store.ListAllAsync("group/"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Wrong_credentials_are_an_access_error_that_names_what_to_set()
    {
        const string Secret = "wrong-secret-Pz81";
        await using var store = new S3Store(s3.Options("creds", "p") with { Credentials = new BasicAWSCredentials("NOT-A-KEY", Secret) });
        var error = await Assert.ThrowsAsync<StoreException>(() => store.ListAllAsync(""));

        Assert.Equal(StoreErrorReason.Unauthorized, error.Reason);
        Assert.Contains("InvalidAccessKeyId", error.Message, StringComparison.Ordinal);
        Assert.Contains("AWS_ACCESS_KEY_ID", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_closed_port_is_unreachable_and_names_the_endpoint_setting()
    {
        var closed = new Uri($"http://127.0.0.1:{Testing.FreePort.Next()}");
        await using var store = new S3Store(s3.Options("closed", "p") with { Endpoint = closed });
        var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("config"));

        Assert.Equal(StoreErrorReason.Unreachable, error.Reason);
        Assert.Contains(closed.GetLeftPart(UriPartial.Authority), error.Message, StringComparison.Ordinal);
        Assert.Contains("AWS_ENDPOINT_URL_S3", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

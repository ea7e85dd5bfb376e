using Baton.Supervision.Preemption;
using Baton.Testing;

namespace Baton.Tests.Supervision;

public sealed class PreemptionSourceTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact(Timeout = 20_000)]
    public async Task Gce_reports_a_notice_when_preempted_turns_true()
    {
        var preempted = "FALSE";
        await using var server = new LoopbackHttpServer(r => r.Url!.AbsolutePath switch
        {
            "/computeMetadata/v1/instance/preempted" => new HttpReply(200, preempted),
            _ => new HttpReply(200, "NONE"),
        });
        var source = new GcePreemptionSource(Http, new Uri(server.BaseAddress, "computeMetadata/v1/"));

        Assert.Null(await source.CheckAsync());
        preempted = "TRUE";
        Assert.Contains("preempted", await source.CheckAsync(), StringComparison.Ordinal);
        Assert.All(server.Requests, r => Assert.Equal("Google", r.Headers["Metadata-Flavor"]));
    }

    [Fact(Timeout = 20_000)]
    public async Task Aws_uses_a_session_token_and_reports_a_scheduled_interruption()
    {
        var scheduled = false;
        await using var server = new LoopbackHttpServer(r => (r.HttpMethod, r.Url!.AbsolutePath) switch
        {
            ("PUT", "/latest/api/token") => new HttpReply(200, "token-1"),
            ("GET", "/latest/meta-data/spot/instance-action") when r.Headers["X-aws-ec2-metadata-token"] != "token-1" => new HttpReply(401),
            ("GET", "/latest/meta-data/spot/instance-action") => scheduled
                ? new HttpReply(200, "{\"action\": \"terminate\", \"time\": \"2030-01-01T00:02:00Z\"}")
                : new HttpReply(404),
            _ => new HttpReply(404),
        });
        var source = new AwsPreemptionSource(Http, server.BaseAddress);

        Assert.Null(await source.CheckAsync());
        scheduled = true;
        Assert.Contains("terminate at 2030-01-01T00:02:00Z", await source.CheckAsync(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 20_000)]
    public async Task Azure_reports_a_preempt_event_and_ignores_a_freeze()
    {
        var events = "{\"DocumentIncarnation\": 1, \"Events\": [{\"EventType\": \"Freeze\"}]}";
        await using var server = new LoopbackHttpServer(r => r.Headers["Metadata"] == "true"
            ? new HttpReply(200, events)
            : new HttpReply(400));
        var source = new AzurePreemptionSource(Http, new Uri(server.BaseAddress, "metadata/"));

        Assert.Null(await source.CheckAsync());
        events = "{\"DocumentIncarnation\": 2, \"Events\": [{\"EventType\": \"Preempt\", \"NotBefore\": \"Mon, 19 Sep 2030 18:29:47 GMT\"}]}";
        Assert.Contains("Preempt", await source.CheckAsync(), StringComparison.Ordinal);
        Assert.Contains("/metadata/scheduledevents?api-version=2020-07-01", server.Requests.Last().Line, StringComparison.Ordinal);
    }

    [Fact(Timeout = 20_000)]
    public async Task Auto_keeps_the_cloud_that_answers()
    {
        await using var azure = new LoopbackHttpServer(_ => new HttpReply(200, "{\"Events\": []}"));
        var closed = new Uri($"http://127.0.0.1:{FreePort.Next()}/");
        var endpoints = new PreemptionEndpoints { Gce = closed, Aws = closed, Azure = azure.BaseAddress };

        var monitor = await PreemptionMonitor.CreateAsync("auto", Http, endpoints, TimeSpan.FromSeconds(1), new RecordingLog(), TimeProvider.System);

        Assert.Equal("azure", monitor?.Cloud);
    }

    [Fact(Timeout = 20_000)]
    public async Task Auto_without_any_cloud_turns_notices_off()
    {
        var closed = new Uri($"http://127.0.0.1:{FreePort.Next()}/");
        var log = new RecordingLog();

        var monitor = await PreemptionMonitor.CreateAsync("auto", Http, new PreemptionEndpoints { Gce = closed, Aws = closed, Azure = closed },
            TimeSpan.FromSeconds(1), log, TimeProvider.System);

        Assert.Null(monitor);
        Assert.Contains(log.Lines, l => l.Contains("preemption notices are off", StringComparison.Ordinal));
    }

    [Fact]
    public void Environment_variables_move_the_endpoints()
    {
        var endpoints = PreemptionEndpoints.FromEnvironment(name => name == "BATON_AWS_METADATA_URL" ? "http://127.0.0.1:9/aws" : null);

        Assert.Equal("http://127.0.0.1:9/aws/", endpoints.Aws.ToString());
        Assert.Equal(new PreemptionEndpoints().Gce, endpoints.Gce);
    }
}

using GenAI.Server.Hosting;
using Prometheus;

namespace GenAI.Server.Observability;

/// <summary>The Prometheus metrics GenAI exports at <c>/metrics</c> (prometheus-net, one registry per server).</summary>
public sealed class ServerMetrics
{
    public ServerMetrics(ModelHost host)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("genai_requests_total", "API requests by endpoint and status.", "endpoint", "status");
        PromptTokens = factory.CreateCounter("genai_prompt_tokens_total", "Prompt tokens processed.", "model");
        CompletionTokens = factory.CreateCounter("genai_completion_tokens_total", "Tokens generated.", "model");
        TimeToFirstToken = factory.CreateHistogram("genai_time_to_first_token_seconds", "Time from request to its first token.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.01, 2, 14) });
        InterTokenLatency = factory.CreateHistogram("genai_inter_token_latency_seconds", "Time between consecutive tokens of a request.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.002, 2, 14) });
        BatchSize = factory.CreateHistogram("genai_batch_size", "Rows in each decode step.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.LinearBuckets(1, 1, 32) });
        PrefillPromptsPerPass = factory.CreateHistogram("genai_prefill_prompts_per_pass", "Prompts read together in each prefill pass.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.LinearBuckets(1, 1, 16) });
        var queueDepth = factory.CreateGauge("genai_queue_depth", "Requests waiting for a batch row.", "model");
        var prefixHits = factory.CreateGauge("genai_prefix_cache_hit_tokens", "Prompt tokens the prefix cache supplied (since the model loaded).", "model");
        var prefixQueries = factory.CreateGauge("genai_prefix_cache_queried_tokens", "Prompt tokens looked up in the prefix cache (since the model loaded).", "model");
        var prefixHitRate = factory.CreateGauge("genai_prefix_cache_hit_rate", "Share of prompt tokens the prefix cache supplied (since the model loaded).", "model");
        var prefixBytes = factory.CreateGauge("genai_prefix_cache_bytes", "Bytes of keys and values the prefix cache holds.", "model");
        var weightBytes = factory.CreateGauge("genai_model_weight_bytes", "Bytes of the model's parameters.", "model");
        var kvBytes = factory.CreateGauge("genai_kv_cache_bytes", "Bytes of the KV cache's rows.", "model");
        var activeRows = factory.CreateGauge("genai_active_rows", "Rows in the latest decode step.", "model");
        host.ModelLoaded += model =>
        {
            model.Engine.StepCompleted += rows => BatchSize.WithLabels(model.Id).Observe(rows);
            model.Engine.PrefillCompleted += (prompts, _) => PrefillPromptsPerPass.WithLabels(model.Id).Observe(prompts);
        };
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var model in host.Models)
            {
                queueDepth.WithLabels(model.Id).Set(model.Engine.QueueDepth);
                activeRows.WithLabels(model.Id).Set(model.Engine.ActiveRows);
                var (hit, queried) = model.Engine.PrefixCacheTokens;
                prefixHits.WithLabels(model.Id).Set(hit);
                prefixQueries.WithLabels(model.Id).Set(queried);
                prefixHitRate.WithLabels(model.Id).Set(queried == 0 ? 0 : (double)hit / queried);
                prefixBytes.WithLabels(model.Id).Set(model.Engine.PrefixCacheBytes);
                weightBytes.WithLabels(model.Id).Set(model.WeightBytes);
                kvBytes.WithLabels(model.Id).Set(model.Engine.KvCacheBytes);
            }
        });
    }

    public CollectorRegistry Registry { get; }
    public Counter Requests { get; }
    public Counter PromptTokens { get; }
    public Counter CompletionTokens { get; }
    public Histogram TimeToFirstToken { get; }
    public Histogram InterTokenLatency { get; }
    public Histogram BatchSize { get; }
    public Histogram PrefillPromptsPerPass { get; }
}

using GenAI.Benchmarks;
using GenAI.Benchmarks.LlamaCpp;

return args.FirstOrDefault() switch
{
    "model" => ModelBenchmark.Run(args[1..]),
    "engine" => EngineBenchmark.Run(args[1..]),
    "load" => LoadBenchmark.Run(args[1..]),
    "serving" => ServingBenchmark.Run(args[1..]),
    "train" => TrainBenchmark.Run(args[1..]),
    "memory" => MemoryBenchmark.Run(args[1..]),
    "tokenizer" => TokenizerBenchmark.Run(args[1..]),
    "quantization" => QuantizationQualityBenchmark.Run(args[1..]),
    "constrained" => ConstrainedBenchmark.Run(args[1..]),
    "llamacpp" => LlamaCppBenchmark.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project benchmarks/GenAI.Benchmarks -- <benchmark> [options]
          model   GPT-2-124M-shaped (--arch gpt2, the default) or SmolLM2-360M-shaped (--arch llama) model
                  (random weights): prefill of a 128-token prompt, decode tokens/s at batch 1 and 8, F32, BF16 and
                  int8 (Q8_0: VNNI and portable kernels with F32 activations, and with BF16 activations).
                  Options: --arch gpt2|llama, --decode-steps N (64), --repeats N (3), --weights all|int8
          memory  resident memory after and peak while loading a Llama-3.2-1B-shaped BF16 checkpoint (random
                  weights, written once, 2.5 GB) in BF16, F32, int8 (rest F32) and int8 (rest BF16), each in a fresh
                  process.  Options: --folder DIR, --loads bfloat16,float32,int8,int8-bfloat16
          quantization  int8 (Q8_0) against float32 on every fixture model and on GPT-2-124M- and SmolLM2-360M-
                  shaped random weights: top-1 agreement over every position and the largest |log-prob difference|,
                  for one forward pass and token by token (VNNI and portable decode kernels).  Options: --tokens N (48)
          tokenizer  tokenizer.json load and encode times on the Llama 3, Qwen3 and Mistral tokenizers
          constrained  decode tokens/s without and with response_format (a JSON schema, json_object), greedy and sampled, on
                  the GPT-2-124M shape (GPT-2's 50257 tokens) and the Qwen2.5-0.5B shape (Qwen's 151936), and the mask time
                  per constrained token. Options: --model gpt2|qwen|both (both), --new-tokens N (128), --repeats N (3)
          engine  N = 1, 4, 8, 16 concurrent greedy requests through the engine (continuous batching) on the
                  same model: aggregate tokens/s, time to first token and inter-token latency p50/p99.
                  Options: --prompt N (128), --new-tokens N (128), --arrival-trials N (3), --only arrivals,
                  --trace yes (the engine's passes during each arrival trial)
          load    starts the server (its own process) and runs C = 1, 8, 32 concurrent streaming clients for a
                  fixed time each, then three runs at C = 32: tokens/s, TTFT p50/p99, 2xx/429/other, server RSS; RSS after
                  load and after the runs against the weights + KV cache /metrics reports.
                  Options: --model DIR (the fixture), --seconds N (20), --max-tokens N (64)
          llamacpp  GenAI beside llama.cpp on the same random weights (issue 12): GPT-2-124M-shaped (--arch gpt2) or
                  SmolLM2-360M-shaped with GPT-2's vocabulary (--arch llama), written as Hugging Face folders and exported
                  to GGUF F32/F16 (+ Q8_0 by llama-quantize); greedy tokens checked equal in F32; GenAI F32, BF16 and int8
                  (--quantize int8) beside llama.cpp F32, F16 and Q8_0: raw prefill and decode (GenAI's model benchmark;
                  llama-bench pp128/tg128) and HTTP streaming (GenAI's server and llama-server -np 8, one client): 1 stream,
                  8 streams, TTFT; the issue's target ratios, PASS or MISS; GenAI server's RSS against weights + KV cache.
                  Options: --llama-cpp DIR (llama.cpp's build/bin; or LLAMA_CPP_BIN), --arch gpt2|llama, --threads N (2),
                  --repeats N (3), --rounds N (2: every measurement again, later), --work DIR, --keep (the files),
                  --check-only (export and greedy check, no figures)
          serving  one greedy stream on a GPT-2-124M-shaped model (random weights, written once to a folder): batch-1
                  decode tokens/s of the engine in this process (raw) and streamed by the server process over HTTP, and
                  their ratio (target >= 0.95). Options: --model DIR, --prompt N (128), --new-tokens N (128), --repeats N (6)
          train   nanoGPT's CPU "baby" run on models/tiny-shakespeare/tinyshakespeare.txt (2000 iterations, ~2 min): val loss
                  at the end and mean ms/iter beside nanoGPT's (1.886, ~49 ms). Options: any training option as
                  nanoGPT names it, e.g. --max_iters 200 for a quick check, --seed 1
        """);
    return 2;
}

using GenAI.Benchmarks;

return args.FirstOrDefault() switch
{
    "model" => ModelBenchmark.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project benchmarks/GenAI.Benchmarks -- <benchmark> [options]
          model   GPT-2-124M-shaped model (random weights): prefill of a 128-token prompt, decode tokens/s
                  at batch 1 and 8, F32 and BF16.  Options: --decode-steps N (64), --repeats N (3)
        """);
    return 2;
}

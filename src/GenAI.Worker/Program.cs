using GenAI.Worker;

try
{
    return args.FirstOrDefault() switch
    {
        "train" => TrainCommand.Run(args[1..]),
        "publish" => PublishCommand.Run(args[1..]),
        "run" => RunCommand.Run(args[1..]),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run --project src/GenAI.Worker -- publish --models-root DIR --name NAME --from MODEL_DIR
               dotnet run --project src/GenAI.Worker -- train --data FILE [--tokenizer char | --init MODEL_DIR] --out DIR [options]
          options, named as nanoGPT names them: --n_layer --n_head --n_embd --block_size --batch_size
          --gradient_accumulation_steps --max_iters --learning_rate --min_lr --warmup_iters --lr_decay_iters
          --weight_decay --beta1 --beta2 --grad_clip --dropout --eval_interval --eval_iters --seed
               dotnet run --project src/GenAI.Worker -- run --models-root DIR --data-root DIR [--worker-id ID] [--poll-seconds N]
          runs fine-tuning jobs from the job store in the data root (the server's --data-root) until SIGTERM or Ctrl+C
        """);
    return 2;
}

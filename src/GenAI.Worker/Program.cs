using GenAI.Training;
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
catch (Exception e) when (e is ArgumentException or TrainingDataException or InvalidDataException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run --project src/GenAI.Worker -- train --data FILE [--validation FILE] [--tokenizer char | --init MODEL_DIR]
                      --out DIR [--checkpoint_interval N] [options]
          --data        a text file, or a .jsonl file of {"text": ...}, {"prompt": ..., "completion": ...} or
                        {"messages": [{"role": ..., "content": ...}, ...]} lines (chat rendered with the model's template)
          --validation  a file like --data to validate on; without it the last 10% of the --data tokens validate
          --tokenizer char  train from scratch with a character-level tokenizer of the data (the default)
          --init MODEL_DIR  fine-tune that model folder, with its tokenizer
          --out DIR     where the trained model goes; checkpoints go to DIR/checkpoint, and running the same command
                        again (after Ctrl+C, a crash or kill -9) resumes from the latest one. Delete it to start over.
          --checkpoint_interval N  iterations between checkpoints (default 0: at each evaluation)
          options, named as nanoGPT names them: --n_layer --n_head --n_embd --block_size --batch_size
          --gradient_accumulation_steps --max_iters --learning_rate --min_lr --warmup_iters --lr_decay_iters
          --weight_decay --beta1 --beta2 --grad_clip --dropout --eval_interval --eval_iters --seed
               dotnet run --project src/GenAI.Worker -- run --models-root DIR --data-root DIR [--job-store DB] [--worker-id ID] [--poll-seconds N] [--lease-seconds N]
          runs fine-tuning jobs from the job store (the server's --job-store, or GenAI__JobStore; default genai.db in the data root) until SIGTERM or Ctrl+C
               dotnet run --project src/GenAI.Worker -- publish --models-root DIR --name NAME --from MODEL_DIR
          checks MODEL_DIR and publishes it as the next revision of NAME (the server hot-loads it)
        """);
    return 2;
}

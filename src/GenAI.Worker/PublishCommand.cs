using GenAI.Core.Checkpoints;
using GenAI.Core.Runtime;

namespace GenAI.Worker;

/// <summary><c>publish</c>: checks a model folder and publishes it as the next revision of a model under a models root.</summary>
internal static class PublishCommand
{
    public static int Run(string[] args)
    {
        string? root = null, modelName = null, from = null;
        foreach (var (name, value) in Arguments.Pairs(args))
        {
            switch (name)
            {
                case "models-root": root = value; break;
                case "name": modelName = value; break;
                case "from": from = value; break;
                default: throw new ArgumentException($"unknown option --{name} (publish takes --models-root DIR --name NAME --from FOLDER)");
            }
        }
        if (root is null || modelName is null || from is null) throw new ArgumentException("publish needs --models-root DIR --name NAME --from FOLDER");
        if (!ModelRepository.IsValidName(modelName)) throw new ArgumentException($"--name '{modelName}' is not a valid model name (1-128 of A-Z a-z 0-9 . _ -, not starting with . or -)");
        if (!Directory.Exists(from)) throw new ArgumentException($"--from: no folder {from}");
        TorchRuntime.EnsureAvailable();
        try
        {
            var published = new ModelRepository(root).Publish(modelName, from);
            Console.WriteLine($"published {published.Name} {published.Revision} at {published.Folder}");
            return 0;
        }
        catch (CheckpointException e)
        {
            Console.Error.WriteLine($"error: refused to publish: {e.Message}");
            return 1;
        }
    }
}

using System.Text;

namespace GenAI.Server.Hosting;

/// <summary>One chat message as the API receives it.</summary>
public sealed record ChatTurn(string Role, string Content);

/// <summary>
/// Builds the prompt of a chat request. GenAI's plain default template (used for every model: Hugging Face
/// chat templates are Jinja programs, which GenAI does not execute):
/// <code>
/// System: {system}\n
/// User: {user}\n
/// Assistant: {assistant}\n
/// ...
/// Assistant:
/// </code>
/// ending with "Assistant:" so the model writes the reply; generation also stops at "\nUser:".
/// </summary>
public sealed class ChatPromptBuilder(Core.Tokenization.TextTokenizer tokenizer)
{
    /// <summary>Stop strings the template adds, so the model does not write the user's next turn.</summary>
    public static readonly IReadOnlyList<string> TurnStops = ["\nUser:"];

    public string Render(IEnumerable<ChatTurn> messages)
    {
        var prompt = new StringBuilder();
        foreach (var message in messages)
        {
            prompt.Append(Label(message.Role)).Append(": ").Append(message.Content.Trim()).Append('\n');
        }
        prompt.Append("Assistant:");
        return prompt.ToString();
    }

    public IReadOnlyList<int> Encode(IEnumerable<ChatTurn> messages) => tokenizer.Encode(Render(messages));

    private static string Label(string role) => role switch
    {
        "system" or "developer" => "System",
        "assistant" => "Assistant",
        "tool" => "Tool",
        _ => "User",
    };
}

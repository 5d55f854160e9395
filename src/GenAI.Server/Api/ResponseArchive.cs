using System.Text.Json;
using GenAI.Training.Jobs;

namespace GenAI.Server.Api;

/// <summary>
/// Stored responses as the API sees them: the response object and the items its request sent, kept as JSON in an
/// <see cref="IResponseStore"/>; lookups throw the API's errors.
/// </summary>
public static class ResponseArchive
{
    /// <summary>Saves a finished response with the items its request sent (instructions excluded: they are not carried over).</summary>
    public static void Save(IResponseStore store, ResponseObject response, IReadOnlyList<ResponseItem> inputItems) =>
        store.Save(new StoredResponse(response.Id, response.CreatedAt, response.Model, response.PreviousResponseId, response.Status,
            JsonSerializer.Serialize(inputItems, JsonBody.Options), JsonSerializer.Serialize(response, JsonBody.Options)));

    /// <summary>The stored response <paramref name="id"/>; 404 when there is none.</summary>
    public static ResponseObject Find(IResponseStore store, string id) => Response(store.Get(id) ?? throw NotFound(id));

    /// <summary>The items the request of stored response <paramref name="id"/> sent, in order; 404 when there is none.</summary>
    public static List<ResponseItem> InputItems(IResponseStore store, string id) => Items(store.Get(id) ?? throw NotFound(id));

    /// <summary>
    /// What a continuation of <paramref name="previousId"/> starts from: the input items, then the output items, of
    /// every response of its chain, oldest first. An unknown id is a 400 (code <c>previous_response_not_found</c>), as
    /// OpenAI answers; so is a chain one of whose responses was deleted, since its conversation is gone.
    /// </summary>
    public static List<ResponseItem> Conversation(IResponseStore store, string previousId)
    {
        var chain = store.Chain(previousId);
        if (chain.Count == 0) throw PreviousNotFound($"Previous response with id '{previousId}' not found.");
        if (chain[0].PreviousResponseId is { } missing)
        {
            throw PreviousNotFound($"Previous response with id '{previousId}' continues response '{missing}', which was deleted: its conversation is incomplete.");
        }
        var items = new List<ResponseItem>();
        foreach (var stored in chain)
        {
            items.AddRange(Items(stored));
            var output = Response(stored).Output;
            // A call max_output_tokens cut short has arguments that are not JSON: no template can render it as a call.
            if (output.OfType<FunctionCallItem>().FirstOrDefault(c => c.Status == ResponseStatus.Incomplete) is { } cut)
            {
                throw ApiException.Invalid($"response '{stored.Id}' ended inside its function call '{cut.Name}' (max_output_tokens), which cannot be continued; " +
                                           "send the conversation as input instead, or create that response again with a larger max_output_tokens", "previous_response_id");
            }
            items.AddRange(output);
        }
        return items;
    }

    /// <summary>404 for an unknown response id.</summary>
    public static ApiException NotFound(string id) => ApiException.NotFound($"Response with id '{id}' not found.", "response_id", "response_not_found");

    private static ApiException PreviousNotFound(string message) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", "previous_response_id", "previous_response_not_found");

    private static List<ResponseItem> Items(StoredResponse stored) =>
        JsonSerializer.Deserialize<List<ResponseItem>>(stored.InputItems, JsonBody.Options) ?? [];

    private static ResponseObject Response(StoredResponse stored) =>
        JsonSerializer.Deserialize<ResponseObject>(stored.Response, JsonBody.Options) ?? throw new InvalidDataException($"stored response {stored.Id} is empty");
}

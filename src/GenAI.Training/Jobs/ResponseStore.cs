namespace GenAI.Training.Jobs;

/// <summary>
/// A stored response of the Responses API (<c>store: true</c>), kept so it can be read back, continued with
/// <c>previous_response_id</c> and deleted. The store does not read the JSON it keeps.
/// </summary>
/// <param name="Id"><c>resp_</c> and 32 hex digits.</param>
/// <param name="CreatedAt">Unix seconds.</param>
/// <param name="Model">The model that produced it.</param>
/// <param name="PreviousResponseId">The response it continued, if any.</param>
/// <param name="Status"><c>completed</c>, <c>incomplete</c> or <c>failed</c>.</param>
/// <param name="InputItems">
/// JSON array: the items this request sent (not its instructions). A continuation's conversation is the input and
/// output items of every response of its chain (<see cref="IResponseStore.Chain"/>), oldest first.
/// </param>
/// <param name="Response">JSON object: the response exactly as it was returned (its output items included).</param>
public sealed record StoredResponse(string Id, long CreatedAt, string Model, string? PreviousResponseId, string Status, string InputItems, string Response);

/// <summary>
/// Where stored responses live. Each method is one statement, atomic on its own: a response is saved whole or not at
/// all. <see cref="SqliteResponseStore"/> keeps them in the job store's SQLite database; a store for another database
/// implements the same four methods over the same table (<see cref="PostgresResponseStore"/>).
/// </summary>
public interface IResponseStore : IDisposable
{
    /// <summary>Saves a new response; its id must not be stored yet.</summary>
    void Save(StoredResponse response);

    /// <summary>The response, or null when there is none with this id (never stored, or deleted).</summary>
    StoredResponse? Get(string id);

    /// <summary>Deletes the response; false when there was none.</summary>
    bool Delete(string id);

    /// <summary>
    /// The response <paramref name="id"/> and the responses it continues, following <c>previous_response_id</c>, oldest
    /// first (the last one is <paramref name="id"/>'s). Empty when <paramref name="id"/> is not stored; when a response
    /// of the chain was deleted, the chain stops after it (the first one's <c>PreviousResponseId</c> is then not null).
    /// </summary>
    IReadOnlyList<StoredResponse> Chain(string id);
}

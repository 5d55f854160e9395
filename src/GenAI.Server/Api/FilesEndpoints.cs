using System.Text;
using GenAI.Server.Hosting;
using GenAI.Training.Jobs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace GenAI.Server.Api;

/// <summary>POST/GET /v1/files, GET/DELETE /v1/files/{id}, GET /v1/files/{id}/content: training data uploads, as OpenAI's Files API.</summary>
public static class FilesEndpoints
{
    /// <summary>Room for the multipart framing and the purpose field around the file itself.</summary>
    private const long MultipartOverhead = 64 * 1024;

    public static RouteGroupBuilder MapFiles(this RouteGroupBuilder v1)
    {
        var files = v1.MapGroup("/files").WithTags("Files");
        files.MapPost("", Upload)
            .WithName("UploadFile")
            .WithSummary("Upload a training file (multipart/form-data: file, purpose=fine-tune)")
            .WithDescription("Plain text, or JSONL with {\"text\"}, {\"prompt\", \"completion\"} or {\"messages\"} lines. The content is " +
                "validated on upload: a bad line is a 400 naming it; a file over MaxUploadBytes is a 413.")
            .Produces<FileObject>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge);
        files.MapGet("", (JobStores access, string? purpose) =>
            {
                var list = access.Store.ListFiles().Where(f => purpose is null || f.Purpose == purpose).Select(FileObject.From).ToList();
                return Results.Json(new FileList(list, false, list.FirstOrDefault()?.Id, list.LastOrDefault()?.Id), JsonBody.Options);
            })
            .WithName("ListFiles").WithSummary("The uploaded files, newest first").Produces<FileList>();
        files.MapGet("/{id}", (string id, JobStores access) => Results.Json(FileObject.From(access.Find(id)), JsonBody.Options))
            .WithName("RetrieveFile").WithSummary("One uploaded file")
            .Produces<FileObject>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        files.MapGet("/{id}/content", (string id, JobStores access) =>
                Results.File(access.Files.PathOf(access.Find(id)), "application/octet-stream"))
            .WithName("DownloadFile").WithSummary("The content of an uploaded file")
            .Produces(StatusCodes.Status200OK).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        files.MapDelete("/{id}", (string id, JobStores access) =>
            {
                if (!access.Files.Delete(id)) throw JobStores.FileNotFound(id);
                return Results.Json(new FileDeleted(id, true), JsonBody.Options);
            })
            .WithName("DeleteFile").WithSummary("Delete an uploaded file")
            .Produces<FileDeleted>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        return v1;
    }

    private static async Task<IResult> Upload(HttpContext http, JobStores access, IOptions<ServerOptions> options)
    {
        long limit = options.Value.MaxUploadBytes;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit + MultipartOverhead;
        if (http.Request.ContentLength > limit + MultipartOverhead) throw TooLarge(limit);
        if (!http.Request.HasFormContentType || !http.Request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.Invalid("send multipart/form-data with the fields file and purpose", "file");
        }
        http.Features.Set<IFormFeature>(new FormFeature(http.Request, new FormOptions { MultipartBodyLengthLimit = limit + MultipartOverhead }));
        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (InvalidDataException e) when (e.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase))
        {
            throw TooLarge(limit);
        }
        catch (InvalidDataException e)
        {
            throw ApiException.Invalid($"the multipart body is malformed: {e.Message}", "file");
        }
        catch (IOException e) when (!http.RequestAborted.IsCancellationRequested)
        {
            throw ApiException.Invalid($"the multipart body ended early: {e.Message}", "file");
        }
        string purpose = form["purpose"].ToString();
        if (string.IsNullOrEmpty(purpose)) throw ApiException.Invalid($"purpose is required ('{FileStore.FineTunePurpose}')", "purpose");
        var file = form.Files.GetFile("file") ?? throw ApiException.Invalid("file is required: a multipart part named 'file'", "file");
        if (file.Length > limit) throw TooLarge(limit);
        try
        {
            await using var content = file.OpenReadStream();
            var stored = await access.Files.SaveAsync(content, string.IsNullOrEmpty(file.FileName) ? "upload" : file.FileName, purpose, limit, http.RequestAborted);
            return Results.Json(FileObject.From(stored), JsonBody.Options);
        }
        catch (ArgumentException e) when (e.ParamName == "purpose")
        {
            throw ApiException.Invalid(FirstSentence(e.Message), "purpose");
        }
        catch (FileTooLargeException)
        {
            throw TooLarge(limit);
        }
        catch (Exception e) when (e is InvalidDataException or DecoderFallbackException)
        {
            throw ApiException.Invalid($"the file is not valid training data: {e.Message}", "file");
        }
    }

    private static ApiException TooLarge(long limit) => ApiException.TooLarge($"the file exceeds the upload limit of {limit} bytes (MaxUploadBytes)");

    /// <summary>ArgumentException appends " (Parameter 'x')"; the error's param field says that already.</summary>
    internal static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}

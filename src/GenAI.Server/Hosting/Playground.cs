using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace GenAI.Server.Hosting;

/// <summary>
/// The playground page at <c>/</c>: the static files of <c>wwwroot</c>, embedded in the server assembly so that
/// <c>dotnet run</c>, the test output and the published image serve the same files with nothing to copy beside it.
/// </summary>
public static class Playground
{
    /// <summary>
    /// The page fetches only its own origin (the API, <c>/metrics</c>, <c>/health</c>) and loads only its own scripts and
    /// styles: no CDN, no external request, and model output rendered as Markdown cannot pull anything in.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

    public static WebApplication UsePlayground(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(Playground).Assembly, "GenAI.Server.wwwroot");
        // "/" (and the path base without its slash, redirected to "base/" so relative URLs resolve under it) -> index.html.
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                // Revalidate every time (ETag): a new server build serves its own page, never a cached older script.
                headers.CacheControl = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                if (context.File.Name.EndsWith(".html", StringComparison.Ordinal)) headers.ContentSecurityPolicy = ContentSecurityPolicy;
            },
        });
        return app;
    }
}

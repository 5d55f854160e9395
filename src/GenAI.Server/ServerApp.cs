using GenAI.Server.Api;
using GenAI.Server.Hosting;
using GenAI.Server.Observability;
using GenAI.Training.Jobs;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Prometheus;
using Serilog;
using Serilog.Formatting.Compact;

namespace GenAI.Server;

/// <summary>Builds the GenAI HTTP server: options, model host, endpoints, errors, logging, metrics, Swagger.</summary>
public static class ServerApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = CommandLine.Normalize(args), ContentRootPath = AppContext.BaseDirectory });
        var section = builder.Configuration.GetSection(ServerOptions.Section);
        builder.Services.AddOptions<ServerOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddSerilog((services, logger) =>
        {
            bool json = services.GetRequiredService<IOptions<ServerOptions>>().Value.JsonLogs;
            logger.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Hosting", Serilog.Events.LogEventLevel.Information)
                .ReadFrom.Configuration(builder.Configuration).Enrich.FromLogContext();
            if (json) logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            else logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}");
        });
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ServerOptions>>((k, o) => k.Limits.MaxRequestBodySize = o.Value.MaxBodyBytes);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonBody.Options.PropertyNamingPolicy;
        });
        builder.Services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(o => o.JsonSerializerOptions.PropertyNamingPolicy = JsonBody.Options.PropertyNamingPolicy);
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddHostedService(s => s.GetRequiredService<ModelHost>());
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddSingleton<JobStores>();
        // Stored responses share the job store's database.
        builder.Services.AddSingleton<IResponseStore>(s => JobStores.Connection(s.GetRequiredService<IOptions<ServerOptions>>().Value).OpenResponseStore());
        builder.Services.AddSingleton<IAssistantOutputParsers, AssistantOutputParsers>();
        builder.Services.AddHostedService<InProcessWorker>();
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "GenAI",
                Version = "v1",
                Description = "OpenAI-compatible text generation: completions, chat completions, responses, models, files, fine-tuning jobs, tokenizer, health and metrics.",
            });
            string xml = Path.Combine(AppContext.BaseDirectory, "GenAI.Server.xml");
            if (File.Exists(xml)) o.IncludeXmlComments(xml);
            o.AddSecurityDefinition("bearer", new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "API key, when the server has keys configured" });
        });

        var app = builder.Build();
        app.Services.GetRequiredService<ServerMetrics>(); // subscribe to model loads before they start
        app.Services.GetRequiredService<JobStores>().OpenSharedStore();
        // Behind a proxy that keeps a path prefix: strip it before routing (so routing must be explicit, and after it).
        string pathBase = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value.PathBase;
        if (pathBase.Length > 0) app.UsePathBase(pathBase);
        app.UseRouting();
        app.UseSerilogRequestLogging(o =>
        {
            // One line per request; generation endpoints add Model, Revision, PromptTokens, CompletionTokens, TimeToFirstTokenMs.
            o.MessageTemplate = "{RequestMethod} {RequestPath} {StatusCode} in {Elapsed:0.0} ms {Model} {Revision} prompt={PromptTokens} completion={CompletionTokens} ttft_ms={TimeToFirstTokenMs}";
        });
        app.UseMiddleware<ApiMiddleware>();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            string message = http.Response.StatusCode switch
            {
                404 => $"no such endpoint: {http.Request.Method} {http.Request.Path}",
                405 => $"{http.Request.Method} is not allowed on {http.Request.Path}",
                _ => $"HTTP {http.Response.StatusCode}",
            };
            await ApiMiddleware.WriteAsync(http, new ApiException(http.Response.StatusCode, message, "invalid_request_error"));
        });
        app.UsePlayground();
        app.UseSwagger();
        app.UseSwaggerUI(o => o.DocumentTitle = "GenAI API");

        var v1 = app.MapGroup("/v1").WithTags("OpenAI");
        v1.MapCompletions();
        v1.MapChat();
        v1.MapResponses();
        v1.MapModels();
        v1.MapFiles();
        v1.MapFineTuning();
        app.MapTokenizer();
        app.MapHealth();
        var registry = app.Services.GetRequiredService<ServerMetrics>().Registry;
        app.MapMetrics(settings => settings.Registry = registry, "/metrics");
        return app;
    }
}

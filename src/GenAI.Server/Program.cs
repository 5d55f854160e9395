using GenAI.Server;

// "healthcheck [URL]": a container HEALTHCHECK without curl in the image; exit 0 when the server is ready.
if (args.FirstOrDefault() == "healthcheck") return await HealthCheck.RunAsync(args.Skip(1).FirstOrDefault());

ServerApp.Build(args).Run();
return 0;

/// <summary>The server's entry point (public for WebApplicationFactory).</summary>
public partial class Program;

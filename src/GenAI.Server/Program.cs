using GenAI.Server;

ServerApp.Build(args).Run();

/// <summary>The server's entry point (public for WebApplicationFactory).</summary>
public partial class Program;

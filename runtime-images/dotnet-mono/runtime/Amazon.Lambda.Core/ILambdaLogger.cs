namespace Amazon.Lambda.Core
{
    /// <summary>The context's logger: what it writes goes to the function's log stream.</summary>
    public interface ILambdaLogger
    {
        void Log(string message);
        void LogLine(string message);
    }
}

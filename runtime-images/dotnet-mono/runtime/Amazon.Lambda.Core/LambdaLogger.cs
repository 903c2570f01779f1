using System;

namespace Amazon.Lambda.Core
{
    /// <summary>
    /// Static logging for code that has no context at hand. AWS's runtime points the private
    /// `_loggingAction` field at its log writer; Gantry's runtime does the same, and until then
    /// (or for a copy of this assembly the runtime did not load) messages go to stdout.
    /// </summary>
    public static class LambdaLogger
    {
        private static Action<string> _loggingAction = message => Console.Write(message);

        public static void Log(string message)
        {
            _loggingAction(message);
        }
    }
}

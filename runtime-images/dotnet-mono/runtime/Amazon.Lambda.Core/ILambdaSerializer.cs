using System.IO;

namespace Amazon.Lambda.Core
{
    /// <summary>Turns the event stream into a handler's input type and its result into the response stream.</summary>
    public interface ILambdaSerializer
    {
        T Deserialize<T>(Stream requestStream);
        void Serialize<T>(T response, Stream responseStream);
    }
}

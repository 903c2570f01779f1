using System.Collections.Generic;

namespace Amazon.Lambda.Core
{
    /// <summary>The mobile client context a caller may send (Lambda-Runtime-Client-Context).</summary>
    public interface IClientContext
    {
        IDictionary<string, string> Environment { get; }
        IClientApplication Client { get; }
        IDictionary<string, string> Custom { get; }
    }

    public interface IClientApplication
    {
        string AppPackageName { get; }
        string AppTitle { get; }
        string AppVersionCode { get; }
        string AppVersionName { get; }
        string InstallationId { get; }
    }

    /// <summary>The Cognito identity a caller may send (Lambda-Runtime-Cognito-Identity).</summary>
    public interface ICognitoIdentity
    {
        string IdentityId { get; }
        string IdentityPoolId { get; }
    }
}

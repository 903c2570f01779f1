using System;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gantry.Lambda.Runtime
{
    /// <summary>An AF_UNIX address (sockaddr_un) for Mono's Socket, without Mono.Posix.</summary>
    internal sealed class UnixSocketEndPoint : EndPoint
    {
        public UnixSocketEndPoint(string path)
        {
            Path = path;
        }

        public string Path { get; private set; }

        public override AddressFamily AddressFamily
        {
            get { return AddressFamily.Unix; }
        }

        public override SocketAddress Serialize()
        {
            byte[] bytes = Encoding.UTF8.GetBytes(Path);
            var address = new SocketAddress(AddressFamily.Unix, 2 + bytes.Length + 1);
            for (int i = 0; i < bytes.Length; i++) address[2 + i] = bytes[i];
            address[2 + bytes.Length] = 0;
            return address;
        }

        public override EndPoint Create(SocketAddress address)
        {
            int length = 0;
            while (2 + length < address.Size && address[2 + length] != 0) length++;
            var bytes = new byte[length];
            for (int i = 0; i < length; i++) bytes[i] = address[2 + i];
            return new UnixSocketEndPoint(Encoding.UTF8.GetString(bytes));
        }

        public override string ToString()
        {
            return Path;
        }
    }
}

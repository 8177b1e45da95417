# client.rb: a BERT-RPC client in the style of the bertrpc gem, written with
# Debian's ruby-bert only: one connection per call (as bertrpc does), the
# same exception classes and messages.
require 'bert'
require 'socket'

module BertClient
  class Error < StandardError
    attr_reader :code, :klass, :remote_backtrace

    def initialize(code, klass, detail, backtrace)
      @code = code
      @klass = klass
      @remote_backtrace = backtrace
      super(detail)
    end
  end
  class ProtocolError < Error; end
  class ServerError < Error; end
  class UserError < Error; end
  class ProxyError < Error; end
  class ReadError < StandardError; end

  ERRORS = { protocol: ProtocolError, server: ServerError, user: UserError, proxy: ProxyError }.freeze

  def self.write(sock, term)
    data = BERT.encode(term)
    sock.write([data.bytesize].pack('N'))
    sock.write(data)
  end

  def self.read(sock)
    header = sock.read(4)
    raise ReadError, 'Unable to read from server' if header.nil? || header.bytesize < 4
    len = header.unpack1('N')
    data = sock.read(len)
    raise ReadError, 'Unable to read from server' if data.nil? || data.bytesize < len
    BERT.decode(data)
  end

  # reply turns a reply term into a value or an exception.
  def self.reply(term)
    case term[0]
    when :reply then term[1]
    when :noreply then nil
    when :error
      type, code, klass, detail, bt = term[1].to_a
      raise (ERRORS[type] || RuntimeError).new(code, klass, detail, bt)
    else
      raise "unexpected reply #{term.inspect}"
    end
  end

  # A connection that may carry several requests.
  class Conn
    def initialize(port, host = '127.0.0.1')
      @sock = TCPSocket.new(host, port)
      @sock.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
    end

    def request(kind, mod, fun, args, infos = [])
      infos.each { |i| BertClient.write(@sock, i) }
      BertClient.write(@sock, t[kind, mod, fun, args])
      BertClient.reply(BertClient.read(@sock))
    end

    def close
      @sock.close
    end
  end

  def self.call(port, mod, fun, *args)
    c = Conn.new(port)
    c.request(:call, mod, fun, args)
  ensure
    c&.close
  end

  def self.cast(port, mod, fun, *args)
    c = Conn.new(port)
    c.request(:cast, mod, fun, args)
  ensure
    c&.close
  end

  # Run a block, print "ok <inspect>" or "error <Class> <code> <klass>: <message>".
  def self.show(label)
    v = yield
    puts "#{label} ok #{v.inspect}"
  rescue Error => e
    puts "#{label} error #{e.class.name.split('::').last} #{e.code} #{e.klass}: #{e.message}"
  rescue StandardError => e
    puts "#{label} error #{e.class} #{e.message}"
  end
end

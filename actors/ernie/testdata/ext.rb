# ext.rb: the external Ruby handler of the tests (the seed's `ext`), written
# against Ernie's Ruby API (require 'ernie').
require 'ernie'

module Ext
  def add(a, b)
    a + b
  end

  def echo(x)
    x
  end

  def slow(ms)
    sleep(ms / 1000.0)
    'slept'
  end

  def pid
    Process.pid
  end

  def die
    exit!(1)
  end

  def abandon
    raise 'abandon hope!'
  end

  def argv
    ARGV
  end

  def float
    1.5
  end

  def types
    [nil, true, false, { 'a' => 1 }, Time.at(1_255_295_581, 446_228), /ab+c/ix]
  end
end

# The Ruby side of the native nat module: functions the Erlang module does not
# export, and both/1 when both_pred says false.
module NatRuby
  def both(_x)
    'ruby'
  end

  def sub(a, b)
    a - b
  end
end

Ernie.expose(:ext, Ext)
Ernie.expose(:one, Ext)
Ernie.expose(:nat, NatRuby)
